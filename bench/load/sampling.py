"""What bench/load/run.py samples while a step runs: CPU seconds from /proc (gunicorn and its
workers, the job worker, this database's PostgreSQL backends), and every 2 s the database's
connections, the job queue's depth and the acknowledgement letters' delay."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving this database (the server is shared)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [r[0] for r in rows]


def cpu_readings(pids: dict, url: str) -> dict:
    """CPU seconds of gunicorn, the worker, and each of this database's backends by pid."""
    readings: dict = {name: tree_cpu(pid) for name, pid in pids.items()}
    readings["backends"] = {pid: process_cpu(pid) for pid in backends(url)}
    return readings


def cpu_spent(before: dict, after: dict) -> dict[str, float]:
    spent = {name: after[name] - before[name] for name in after if name != "backends"}
    # A backend that started during the step counts from zero; one that ended is lost.
    spent["postgres (this database)"] = sum(
        cpu - before["backends"].get(pid, 0.0) for pid, cpu in after["backends"].items()
    )
    return spent


class Sampler(threading.Thread):
    """Every 2 s: this database's connections (pg_stat_activity) and the job queue's depth;
    each referral sent in the step and when its acknowledgement letter (the worker's render)
    first exists, for the queue's delay (to within the 2 s of sampling)."""

    def __init__(self, url: str, redis_db: int, since: float, pids: dict, marker: Path):
        super().__init__(daemon=True)
        self.url, self.redis_db, self.since = url, redis_db, since
        self.pids, self.marker = pids, marker
        self.cpu: dict | None = None  # when the measurement began
        self.load = os.getloadavg()
        self.stop = threading.Event()
        self.connections: list[tuple[int, int]] = []  # (total, active)
        self.depth: list[int] = []
        self.pending: dict[int, float] = {}  # referral id -> submitted (epoch)
        self.delays: list[float] = []

    def run(self) -> None:
        import psycopg
        import redis

        queue = redis.Redis(host="127.0.0.1", port=6379, db=self.redis_db)
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(2.0):
                now = time.time()
                if self.cpu is None and self.marker.exists():
                    self.cpu = cpu_readings(self.pids, self.url)
                    self.load = os.getloadavg()
                if self.cpu is None:
                    continue  # users still signing in
                row = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                ).fetchone()
                self.connections.append((row[0], row[1]))
                self.depth.append(queue.llen("huey.redis.portalload"))
                rows = conn.execute(
                    "SELECT r.id, extract(epoch FROM r.submitted_at), "
                    "EXISTS (SELECT 1 FROM letter l WHERE l.referral_id = r.id "
                    "AND l.kind = 'acknowledgement') FROM referral r "
                    "WHERE r.submitted_at >= to_timestamp(%s)",
                    (self.since,),
                ).fetchall()
                for referral_id, submitted, acknowledged in rows:
                    if acknowledged and referral_id in self.pending:
                        self.delays.append(now - self.pending.pop(referral_id))
                    elif not acknowledged and referral_id not in self.pending:
                        self.pending.setdefault(referral_id, float(submitted))
