"""Rate limits across workers (issue 15, item 7): production refuses to start without a
shared store, or says loudly that it runs one worker; with Redis, separate worker processes
count together (a real redis-server and real processes)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from cryptography.fernet import Fernet

from config import TEST_AUDIT_KEY, ProductionConfig
from portal import create_app
from portal.extensions import limiter
from tests.test_config import UNUSED_PG

WORKER = """
import sys
from config import TestingConfig
from portal import create_app
from tests.conftest import CSRF_RE

class Worker(TestingConfig):
    RATELIMIT_STORAGE_URI = sys.argv[1]
    AUTH_RATE_LIMIT = "10 per minute"

app = create_app(Worker)
statuses = []
for _ in range(int(sys.argv[2])):
    client = app.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post(
        "/login", data={"email": "nobody@example.test", "password": "x", "csrf_token": token}
    )
    statuses.append(response.status_code)
print(" ".join(map(str, statuses)))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url():
    server = shutil.which("redis-server")
    assert server, "redis-server is installed by scripts/system-deps.sh"
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", UNUSED_PG)
    monkeypatch.setenv("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("AUDIT_KEYS", TEST_AUDIT_KEY)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("PORTAL_ONE_WORKER", raising=False)
    saved = dict(limiter.__dict__)  # create_app binds the shared limiter to its own store
    yield tmp_path
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)


def _production(tmp_path, store: str):
    class Prod(ProductionConfig):
        SECRET_KEY = "x" * 40
        SQLALCHEMY_DATABASE_URI = UNUSED_PG
        PORTAL_DATA_KEYS = os.environ["PORTAL_DATA_KEYS"]
        RATELIMIT_STORAGE_URI = store

    return Prod


def test_production_refuses_to_start_without_a_shared_store(production_env, monkeypatch, caplog):
    with pytest.raises(RuntimeError, match="REDIS_URL=redis://HOST:6379/0, or, if the portal"):
        create_app(_production(production_env, "memory://"))
    monkeypatch.setenv("PORTAL_ONE_WORKER", "1")
    create_app(_production(production_env, "memory://"))
    assert "RATE LIMITS ARE COUNTED IN THIS PROCESS ONLY" in caplog.text
    monkeypatch.setenv("REDIS_URL", "http://cache:6379")
    with pytest.raises(RuntimeError, match="must start with redis://"):
        create_app(_production(production_env, "memory://"))


def test_production_refuses_to_start_when_redis_does_not_answer(production_env, monkeypatch):
    url = f"redis://127.0.0.1:{_free_port()}/0"
    monkeypatch.setenv("REDIS_URL", url)
    with pytest.raises(RuntimeError, match="does not answer"):
        create_app(_production(production_env, url))


def test_production_starts_with_a_live_redis(production_env, monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    app = create_app(_production(production_env, redis_url))
    assert app.config["RATELIMIT_STORAGE_URI"] == redis_url
    assert limiter.storage.check()


def _workers(store: str, workers: int, each: int) -> list[int]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, store, str(each)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        for _ in range(workers)
    ]
    statuses = []
    for process in processes:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0
        statuses += [int(s) for s in out.split()]
    return statuses


def test_worker_processes_count_sign_ins_together_through_redis(app, db, redis_url):
    shared = _workers(redis_url, workers=3, each=6)
    assert len(shared) == 18
    assert sum(1 for s in shared if s != 429) == 10  # one limit for all workers
    # Each process on its own memory: every worker grants its own ten (the bug).
    apart = _workers("memory://", workers=3, each=6)
    assert sum(1 for s in apart if s != 429) == 18
