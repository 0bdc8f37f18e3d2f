"""Annotators rating at once on the embedded default (SQLite, runserver), beside PostgreSQL.

Reuses bench/bench_load.py: its demo campaign (every annotator queued on every cell) and
its locust annotator (bench/load/locustfile.py: queue page, "next", the rating page, Range
requests on both videos, a rating through the API), here with two clients per annotator
(two tabs or devices, as a room of annotators has) and almost no think time, so the
writes collide. Each database gets a fresh file or database and the same server,
`manage.py runserver` as `make demo` starts it:

- "SQLite, before": the earlier settings (rollback journal, deferred transactions,
  20 s lock timeout), given through DATABASE_URL options;
- "SQLite, embedded default": the settings as shipped (WAL, BEGIN IMMEDIATE, 20 s);
- "PostgreSQL": a throw-away database on 127.0.0.1:5432 (left out when it does not answer).

Prints, for each, requests, refused requests (503 "database unavailable"), other errors
and latency percentiles.

Run: .venv/bin/python bench/bench_embedded_load.py [--annotators 6 24] [--clients 2]
     [--seconds 30] [--wait 0,1] [--server runserver|gunicorn]
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_load  # noqa: E402  (the load test this one builds on)

ROOT = bench_load.ROOT
VENV_BIN = bench_load.VENV_BIN
# The settings before WAL and BEGIN IMMEDIATE, as DATABASE_URL options (they win).
BEFORE_OPTIONS = "?transaction_mode=DEFERRED&init_command=PRAGMA%20journal_mode%3DDELETE"


def _server(*, kind: str, port: int, env: dict) -> subprocess.Popen:
    if kind == "runserver":
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    else:
        command = [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--keep-alive",
            "10",
        ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def run_one(*, label: str, database_url: str, annotators: int, args, tmp: Path) -> dict:
    """Build the campaign on a fresh database, serve it, run the annotators; the figures."""
    work = tmp / f"{label.split(',')[0].split()[0].lower()}-{annotators}-{secrets.token_hex(3)}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DATABASE_URL", "CELERY_BROKER_URL"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REFSCORE_VAR_DIR": str(work / "var"),
        "MEDIA_ROOT": str(work / "media"),
        "LOG_LEVEL": "CRITICAL",
        "BENCH_LOAD_TMP": str(work),
        "BENCH_LOAD_WAIT": args.wait,
        "BENCH_LOAD_CLIENTS": str(args.clients),
        "PYTHONPATH": str(ROOT),
    }
    if args.server == "gunicorn":  # production settings, over loopback HTTP
        env |= {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
    work.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench/bench_load.py"),
            "--users",
            str(annotators),
            "--build-only",
            str(work / "footage"),
        ],
        env=env,
        cwd=ROOT,
        check=True,
    )
    port = bench_load._free_port()
    server = _server(kind=args.server, port=port, env=env)
    try:
        host = f"http://127.0.0.1:{port}"
        bench_load._wait_until_up(f"{host}/accounts/login/", process=server)
        print(f"{label}: {annotators} annotators x {args.clients} clients", flush=True)
        return bench_load.run_locust(
            user_class="AnnotatorUser",
            users=annotators * args.clients,
            seconds=args.seconds,
            host=host,
            env=env,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _refused(result: dict) -> int:
    return sum(e["count"] for e in result["errors"] if "503" in e["error"])


def _rating_p95(result: dict) -> float:
    entries = [e for name, e in result["entries"].items() if "/rating/" in name]
    return max((e["p95_ms"] for e in entries if e["requests"]), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, nargs="+", default=[6, 24])
    parser.add_argument("--clients", type=int, default=2, help="clients per annotator")
    parser.add_argument("--seconds", type=float, default=30, help="measured window per run")
    parser.add_argument("--wait", default="0,1", help="think time between loops, min,max s")
    parser.add_argument("--server", choices=["runserver", "gunicorn"], default="runserver")
    parser.add_argument("--no-before", action="store_true", help="skip the earlier settings")
    args = parser.parse_args()

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-embedded-"))
    rows: list[tuple[str, int, dict]] = []
    try:
        for annotators in args.annotators:
            configs = []
            if not args.no_before:
                sqlite_url = f"sqlite:///{tmp / f'before-{annotators}.sqlite3'}"
                configs.append(("SQLite, before", sqlite_url + BEFORE_OPTIONS))
            configs.append(
                ("SQLite, embedded default", f"sqlite:///{tmp / f'now-{annotators}.sqlite3'}")
            )
            db_name = f"bench_embedded_{os.getpid()}_{annotators}"
            postgres_url = bench_load._postgres_database(db_name)
            if postgres_url:
                configs.append(("PostgreSQL", postgres_url))
            try:
                for label, url in configs:
                    result = run_one(
                        label=label, database_url=url, annotators=annotators, args=args, tmp=tmp
                    )
                    rows.append((label, annotators, result))
            finally:
                if postgres_url:
                    bench_load._drop_postgres_database(db_name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(
        f"Machine: nproc={os.cpu_count()}, Python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.1f}; server {args.server}; {args.clients} clients per "
        f"annotator, think time {args.wait} s, {args.seconds:.0f} s measured each"
    )
    print()
    print(
        "| database | annotators (clients) | requests | req/s | refused (503) | other errors "
        "| p50 (ms) | p95 (ms) | p99 (ms) | rating p95 (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, annotators, result in rows:
        total, refused = result["total"], _refused(result)
        print(
            f"| {label} | {annotators} ({annotators * args.clients}) | {total['requests']:,} "
            f"| {total['rps']:.1f} | {refused} | {total['failures'] - refused} "
            f"| {total['p50_ms']:.0f} | {total['p95_ms']:.0f} | {total['p99_ms']:.0f} "
            f"| {_rating_p95(result):.0f} |"
        )
    for label, annotators, result in rows:
        for error in result["errors"]:
            print(
                f"error ({label}, {annotators}): {error['count']} x {error['name']}: "
                f"{error['error'][:160]}"
            )
    print(f"total time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
