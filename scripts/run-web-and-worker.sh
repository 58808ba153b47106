#!/usr/bin/env bash
# `make run`: the job queue's worker beside the web server; one Ctrl-C stops both.
# Ctrl-C reaches both (same process group); the trap also stops the worker if the web server
# ends any other way.
set -u
BIN="${BIN:-.venv/bin}"
"$BIN/flask" --app portal worker &
worker=$!
trap 'kill -INT "$worker" 2>/dev/null; wait "$worker" 2>/dev/null' EXIT
"$BIN/flask" --app portal run --host 127.0.0.1 --port "${PORT:-5000}"
