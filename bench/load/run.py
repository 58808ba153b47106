"""Load test of the portal as production runs it: python bench/load/run.py --help

Seeds a network (bench/load/seed.py: 100,000 referrals, 50 clinics, 1,000 providers) into its
own PostgreSQL database, serves it with gunicorn on 127.0.0.1 (PORTAL_ENV=production, Redis
for the limiter and the job queue), runs the job queue's worker beside it and a mail sink,
then runs Locust headless (bench/load/locustfile.py) for --seconds per step, stepping the user
count up (--steps) until it breaks: an error, a 5xx, p99 over 500 ms, or throughput that stops
following the users offered. Per step it prints throughput, p50/p99 per request kind, errors,
5xx, PostgreSQL connections (pg_stat_activity sampled), the job queue's depth and the
acknowledgement letters' delay, the load average and the CPU time of gunicorn, the worker and
PostgreSQL. At the end: no lost write (every referral the server accepted is in the database,
sent) and, with --ratio, the signed-in queue's throughput against GET /bench/hello.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench" / "load"]
sys.path.insert(0, str(ROOT))

from bench.load.sampling import Sampler, cpu_readings, cpu_spent  # noqa: E402 - after sys.path

BIN = ROOT / ".venv/bin"
P99_LIMIT_MS = 500
THINK_SECONDS = 8.0


def sh(*args: str, env: dict | None = None) -> None:
    subprocess.run(args, check=True, cwd=ROOT, env=env)


def production_env(url: str, args, out: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "PORTAL_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        "PORTAL_DATA_KEYS": os.environ.get("PORTAL_DATA_KEYS") or Fernet.generate_key().decode(),
        "AUDIT_KEYS": os.environ.get("AUDIT_KEYS") or f"load:{secrets.token_urlsafe(32)}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "QUEUE_NAME": "portal-load",
        "PROXY_HOPS": "1",  # Locust plays the load balancer: one X-Forwarded-For per user
        "ATTACHMENT_DIR": str(out / "attachments"),
        "AUDIT_CHECKPOINT_PATH": str(out / "audit-checkpoint.json"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(args.port + 1),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{args.port}",
        "PYTHONPATH": str(ROOT),
        "LOAD_OUT": str(out),
    }


@contextmanager
def process(argv: list[str], env: dict, log: Path):
    with log.open("ab") as sink:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM if "gunicorn" in argv[0] else signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def gunicorn_argv(args) -> list[str]:
    argv = [str(BIN / "gunicorn")]
    if args.gunicorn_conf:
        argv += ["-c", args.gunicorn_conf]
    else:  # explicit until the repository's own config lands (branch prod)
        argv += ["--workers", str(args.workers), "--worker-class", "sync", "--timeout", "30",
                 "--graceful-timeout", "10", "--keep-alive", "2", "--preload",
                 "--log-level", "warning"]  # fmt: skip
    return [*argv, "--bind", f"127.0.0.1:{args.port}", "bench.load.wsgi:app"]


def wait_up(port: int) -> None:
    import http.client

    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/hello")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("gunicorn did not answer in 120 s")


def read_stats(prefix: Path) -> dict[str, dict]:
    stats = {}
    with open(f"{prefix}_stats.csv") as f:
        for row in csv.DictReader(f):
            stats[row["Name"] or row["Type"]] = row
    return stats


def read_5xx(prefix: Path) -> int:
    count = 0
    with open(f"{prefix}_failures.csv") as f:
        for row in csv.DictReader(f):
            if re.search(r"\b5\d\d\b", row["Error"]):
                count += int(row["Occurrences"])
    return count


def read_exceptions(prefix: Path) -> int:
    """Errors raised in the users' own code (a journey's check that could not run): not
    requests, so not in the failures, but a journey that stopped half-way all the same."""
    path = Path(f"{prefix}_exceptions.csv")
    if not path.exists():
        return 0
    with path.open() as f:
        return sum(int(row["Count"]) for row in csv.DictReader(f))


def locust(args, env: dict, prefix: Path, users: int, classes: list[str], seconds: int):
    """Starts Locust headless; the caller waits for it (os.wait4, for its CPU)."""
    argv = [str(BIN / "locust"), "-f", str(ROOT / "bench/load/locustfile.py"), "--headless",
            "-H", f"http://127.0.0.1:{args.port}", "-u", str(users), "-r", str(args.spawn_rate),
            "-t", f"{seconds + 3 * users // args.spawn_rate + 120}s", "--csv", str(prefix),
            "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10",
            *classes]  # fmt: skip
    with (prefix.parent / "locust.log").open("ab") as log:
        return subprocess.Popen(
            argv, cwd=ROOT, env={**env, "LOAD_SECONDS": str(seconds)}, stdout=log, stderr=log
        )


def wait_cpu(proc: subprocess.Popen) -> float:
    """Waits for a child to end; its CPU seconds (user + system), all threads."""
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def ms(row: dict, column: str) -> float:
    value = row.get(column, "N/A")
    return float(value) if value not in ("N/A", "") else 0.0


def step(args, env, url, out: Path, users: int, classes: list[str], pids: dict) -> dict:
    prefix = out / f"step-{users}"
    marker = out / "measuring"
    marker.unlink(missing_ok=True)
    since = time.time()
    driver = locust(args, env, prefix, users, classes, args.seconds)
    watched = {**pids, "locust (driver)": driver.pid}  # read when measuring starts
    sampler = Sampler(url.replace("+psycopg", ""), args.redis_db, since, watched, marker)
    sampler.start()
    driver_cpu = wait_cpu(driver)
    sampler.stop.set()
    sampler.join()
    after = cpu_readings(pids, url.replace("+psycopg", ""))
    cpu = cpu_spent(sampler.cpu or after, after)
    if sampler.cpu:  # Locust shares the cores: its CPU while measuring, from its rusage
        cpu["locust (driver)"] = driver_cpu - sampler.cpu["locust (driver)"]
    wall = time.time() - (marker.stat().st_mtime if marker.exists() else since)
    stats = read_stats(prefix)
    total = stats.get("Aggregated", {})
    result = {
        "users": users,
        "stats": stats,
        "rps": ms(total, "Requests/s"),
        "requests": int(total.get("Request Count", 0)),
        "failures": int(total.get("Failure Count", 0)),
        "p50": ms(total, "50%"),
        "p99": ms(total, "99%"),
        "5xx": read_5xx(prefix),
        "exceptions": read_exceptions(prefix),
        "connections": max((c[0] for c in sampler.connections), default=0),
        "active": max((c[1] for c in sampler.connections), default=0),
        "depth": max(sampler.depth, default=0),
        "delays": sorted(sampler.delays),
        "unacknowledged": len(sampler.pending),
        "load": (sampler.load, os.getloadavg()),
        "cpu": cpu,
        "wall": wall,
        "all_signed_in": sampler.cpu is not None,
    }
    report_step(result)
    return result


def report_step(r: dict) -> None:
    per_request = {k: v / max(r["requests"], 1) * 1000 for k, v in r["cpu"].items()}
    print(
        f"\n== {r['users']} users: {r['requests']:,} requests measured, {r['rps']:.1f} req/s "
        f"(offered about {r['users'] / THINK_SECONDS:.1f}), p50 {r['p50']:.0f} ms, "
        f"p99 {r['p99']:.0f} ms, {r['failures']} failed, {r['5xx']} 5xx, "
        f"{r['exceptions']} exceptions in the users' code"
    )
    print(
        f"   {'request kind':<44} {'count':>6} {'fail':>5} {'p50 ms':>7} {'p99 ms':>7} {'max':>7}"
    )
    for name, row in sorted(r["stats"].items()):
        if name == "Aggregated":
            continue
        count, failed = int(row["Request Count"]), int(row["Failure Count"])
        p50, p99, most = ms(row, "50%"), ms(row, "99%"), ms(row, "Max Response Time")
        print(f"   {name:<44} {count:>6} {failed:>5} {p50:>7.0f} {p99:>7.0f} {most:>7.0f}")
    delays = r["delays"]
    if delays:
        delay = (
            f"acknowledgement letter made {delays[len(delays) // 2]:.1f} s (median) / "
            f"{delays[-1]:.1f} s (max) after the submit, {r['unacknowledged']} still waiting"
        )
    else:
        delay = f"no acknowledgement seen made ({r['unacknowledged']} waiting)"
    print(
        f"   PostgreSQL connections (this database): up to {r['connections']} "
        f"({r['active']} active); job queue depth up to {r['depth']}; {delay}"
    )
    if not r["all_signed_in"]:
        print("   NOT every user signed in before the time ran out: figures from the start, "
              "sign-ins included; CPU not measured")  # fmt: skip
    before, after = r["load"]
    cpu = ", ".join(f"{k} {v:.0f} s ({per_request[k]:.0f} ms/request)" for k, v in r["cpu"].items())
    print(f"   wall {r['wall']:.0f} s; CPU: {cpu}; load average {before[0]:.2f} -> {after[0]:.2f}")


def worst_kind(result: dict) -> dict | None:
    """The request kind (sign-in left out, 5 requests or more) with the highest p99."""
    kinds = [
        row
        for name, row in result["stats"].items()
        if name not in ("Aggregated", "sign-in") and int(row["Request Count"]) >= 5
    ]
    return max(kinds, key=lambda row: ms(row, "99%"), default=None)


def broke(result: dict, first: dict | None) -> str:
    if not result["all_signed_in"]:
        return "not every user could sign in before the step's time ran out"
    if result["5xx"]:
        return f"{result['5xx']} server errors (5xx)"
    if result["failures"]:
        return f"{result['failures']} failed requests"
    if result["exceptions"]:
        return f"{result['exceptions']} exceptions in the users' code (see locust.log)"
    worst = worst_kind(result)
    if worst and ms(worst, "99%") > P99_LIMIT_MS:
        return f"p99 of {worst['Name']} {ms(worst, '99%'):.0f} ms, over {P99_LIMIT_MS} ms"
    if first and result["rps"] / result["users"] < 0.85 * first["rps"] / first["users"]:
        return "throughput flattened (requests per user fell by more than 15%)"
    return ""


def lost_writes(url: str, out: Path) -> tuple[int, int]:
    import psycopg

    path = out / "submitted.txt"
    ids = {int(x) for x in path.read_text().split()} if path.exists() else set()
    if not ids:
        return 0, 0
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT count(*) FROM referral WHERE id = ANY(%s) AND submitted_at IS NOT NULL "
            "AND state <> 'draft'",
            (sorted(ids),),
        ).fetchone()[0]
    return len(ids), len(ids) - found


def closed_loop(args, env, out: Path, name: str, user_class: str, route: str) -> float:
    """Requests per second of `route` with no think time (bench/load/closed.py),
    --ratio-users at once, measured once they have all signed in."""
    prefix = out / f"closed-{user_class}"
    argv = [str(BIN / "locust"), "-f", str(ROOT / "bench/load/closed.py"), "--headless",
            "-H", f"http://127.0.0.1:{args.port}", "-u", str(args.ratio_users),
            "-r", str(args.ratio_users), "-t", f"{args.ratio_seconds + 120}s",
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
            user_class]  # fmt: skip
    with (out / "locust.log").open("ab") as log:
        subprocess.run(
            argv, cwd=ROOT, env={**env, "LOAD_SECONDS": str(args.ratio_seconds)}, check=False,
            stdout=log, stderr=log,
        )  # fmt: skip
    row = read_stats(prefix).get(route, {})
    rps, failed = ms(row, "Requests/s"), int(row.get("Failure Count", 0))
    print(f"   {name:<28} {rps:8.1f} req/s, p50 {ms(row, '50%'):.0f} ms, "
          f"p99 {ms(row, '99%'):.0f} ms, {failed} failed")  # fmt: skip
    return rps


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--database", default="portal_load")
    parser.add_argument("--reuse", action="store_true", help="the database is seeded already")
    parser.add_argument("--port", type=int, default=5731)
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--job-workers", type=int, default=2, help="the job worker's threads")
    parser.add_argument(
        "--job-nice",
        type=int,
        default=10,
        help="the job worker's niceness (scripts/serve's JOB_NICE)",
    )
    parser.add_argument("--gunicorn-conf", help="use this gunicorn config instead of the flags")
    parser.add_argument("--steps", default="50,100,250,400", help="user counts, in order")
    parser.add_argument("--seconds", type=int, default=45, help="measured seconds per step")
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument(
        "--users", default="ReferrerUser,CoordinatorUser,ClinicianUser,VerifierUser",
        help="Locust user classes (issue 14's mix: ReferrerUser,CoordinatorUser)",
    )  # fmt: skip
    parser.add_argument("--keep-going", action="store_true", help="run every step")
    parser.add_argument("--ratio", action="store_true", help="queue vs /bench/hello")
    parser.add_argument("--ratio-users", type=int, default=4)
    parser.add_argument("--ratio-seconds", type=int, default=20)
    return parser.parse_args()


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    args = parse_args()
    host = args.admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+psycopg://{host}/{args.database}"
    plain = f"postgresql://{host}/{args.database}"
    out = Path(tempfile.mkdtemp(prefix="load-"))
    (out / "attachments").mkdir()
    env = production_env(url, args, out)
    python = str(BIN / "python")
    keys = ROOT / "instance" / f"load-keys-{args.database}.env"
    if args.reuse and keys.exists():  # the data key the seed sealed the authenticators with
        env.update(line.split("=", 1) for line in keys.read_text().split())
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores shared); output in {out}")
    if not args.reuse:
        sh(python, "scripts/pg_database.py", "drop", args.admin_url, args.database)
        sh(python, "scripts/pg_database.py", "create", args.admin_url, args.database)
        started = time.perf_counter()
        sh(str(BIN / "flask"), "--app", "portal", "db", "upgrade",
           env={**env, "PORTAL_ENV": "development"})  # fmt: skip
        os.environ["PORTAL_DATA_KEYS"] = env["PORTAL_DATA_KEYS"]
        from bench.load.seed import seed_network

        rows = seed_network(plain)
        keys.parent.mkdir(exist_ok=True)
        keys.write_text("".join(f"{k}={env[k]}\n" for k in ("PORTAL_DATA_KEYS", "AUDIT_KEYS")))
        print(f"seeded in {time.perf_counter() - started:.0f} s: {rows}")
    import psycopg
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=args.redis_db).flushdb()
    with psycopg.connect(plain) as conn:
        codes = [r[0] for r in conn.execute("SELECT verify_code FROM letter WHERE verify_code "
                                            "IS NOT NULL LIMIT 2000")]  # fmt: skip
    (out / "verify_codes.txt").write_text("\n".join(codes))
    steps = [int(s) for s in args.steps.split(",") if s]  # --steps "" with --ratio: only that
    classes = args.users.split(",")
    results, verdict = [], ""
    with ExitStack() as stack:
        sink = [python, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{args.port + 1}",
                "-c", "aiosmtpd.handlers.Sink"]  # fmt: skip
        stack.enter_context(process(sink, env, out / "mail.log"))
        web = stack.enter_context(process(gunicorn_argv(args), env, out / "gunicorn.log"))
        worker = ["nice", "-n", str(args.job_nice), str(BIN / "flask"), "--app", "portal",
                  "worker", "--workers", str(args.job_workers)]  # fmt: skip
        jobs = stack.enter_context(process(worker, env, out / "worker.log"))
        wait_up(args.port)
        print(f"gunicorn: {' '.join(gunicorn_argv(args)[1:])}")
        pids = {"gunicorn": web.pid, "job worker": jobs.pid}
        for users in steps:
            result = step(args, env, url, out, users, classes, pids)
            results.append(result)
            reason = broke(result, results[0] if len(results) > 1 else None)
            if reason and not verdict:
                verdict = f"broke first at {users} users ({result['rps']:.1f} req/s): {reason}"
                print(f"   BROKEN: {reason}")
                if not args.keep_going:
                    break
        if args.ratio:
            print(f"\nclosed loop (no think time), {args.ratio_users} users, "
                  f"{args.ratio_seconds} s each, same app and gunicorn:")  # fmt: skip
            queue = closed_loop(args, env, out, "signed-in queue", "QueueUser", "signed-in queue")
            hello = closed_loop(
                args, env, out, "anonymous /bench/hello", "HelloUser", "anonymous hello"
            )
            ratio = queue / hello if hello else 0.0
            print(f"   ratio {ratio:.3f}x (goal >= 0.10x: {'met' if ratio >= 0.1 else 'MISSED'})")
        time.sleep(3)  # the last acknowledgements
    sent, lost = lost_writes(plain, out)
    print(f"\nno lost write: {sent} referrals accepted by the server, {lost} missing from the "
          f"database ({'OK' if lost == 0 else 'LOST WRITES'})")  # fmt: skip
    if steps:
        print(verdict or f"did not break up to {steps[-1]} users")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
