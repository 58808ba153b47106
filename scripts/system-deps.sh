#!/usr/bin/env bash
# System libraries the portal needs: Pango and HarfBuzz (with its subsetter, without which
# WeasyPrint silently takes a path 2-5x slower) for PDF letters, and for the test suite
# poppler-utils (pdftotext, pdftoppm), Chromium for the browser journeys and redis-server
# (rate limits shared by worker processes, tests/test_rate_limit_store.py).
# Installs them with apt-get when run as root; otherwise prints the exact command.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "${1:-}" = "--test" ]; then
  packages+=(poppler-utils chromium redis-server)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The backup drill (tests/test_backup_drill.py): pg_dump and pg_restore of the server's major
# version (Debian's postgresql-client, 15 on bookworm like the server).
if [ "${1:-}" = "--test" ] && ! { command -v pg_dump && command -v pg_restore; } >/dev/null; then
  missing+=(postgresql-client)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing system packages. Install them with:"
  echo "  sudo apt-get install -y ${missing[*]}"
  exit 1
fi
