#!/usr/bin/env python3
"""What exactly-once into a database costs: buffered_import (at-least-once, its buffer
flushed every 1,000 events) against exactly_once_import (offsets in the database's
transaction, one transaction per batch: max_messages, 100 by default, and 1,000 in
exactly-once-sqlite-1000) on SQLite and on PostgreSQL (whose example inserts row by row,
a round trip each).

Each run starts an embedded broker (`samsa broker`, 4 partitions), preloads --events
events, starts the importer with a fresh database, waits until every event is in its
table, stops it with SIGTERM, and reports events per second (from its start to the last
row) and the process's CPU seconds per 100,000 events (user + system, from
/proc/<pid>/stat just before the stop). Cases alternate; median (min-max) of --reps.

    bench/exactly_once.py [--build build] [--events 200000] [--reps 3] [--postgres URI]

Without --postgres it starts a PostgreSQL of its own (scripts/postgres-local).
"""
import argparse
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def psql(uri, sql):
    out = subprocess.run(["psql", "-X", "-q", "-At", uri, "-c", sql], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def run_case(bin_dir, case, events, work, postgres):
    broker_out = work / "broker.out"
    with open(broker_out, "w") as out:
        broker = subprocess.Popen([str(bin_dir / "samsa"), "broker", "--partitions", "4", "--topic", "user_events"],
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while not re.search(r"^bootstrap: (\S+)$", broker_out.read_text(), re.M) and time.time() < deadline:
            time.sleep(0.05)
        brokers = re.search(r"^bootstrap: (\S+)$", broker_out.read_text(), re.M).group(1)
        subprocess.run([str(bin_dir / "samsa"), "produce", "--brokers", brokers, "--topic", "user_events",
                        "--count", str(events)], check=True, stdout=subprocess.DEVNULL)
        if case == "exactly-once-postgresql":
            name = f"bench_{os.getpid()}_{int(time.time() * 1000)}"
            psql(postgres, f"CREATE DATABASE {name}")
            db = postgres.rsplit("/", 1)[0] + "/" + name
            count = lambda: int(psql(db, "SELECT count(*) FROM events") or 0)  # noqa: E731
        else:
            db = str(work / f"{case}-{int(time.time() * 1000)}.db")  # a fresh database per run

            def count():
                try:
                    with sqlite3.connect(db, timeout=10) as con:
                        return con.execute("SELECT count(*) FROM events").fetchone()[0]
                except sqlite3.OperationalError:
                    return 0
        binary = "buffered_import" if case == "at-least-once" else "exactly_once_import"
        extra = ["--flush-size", "1000", "--flush-interval", "1000"] if case == "at-least-once" else []
        if case.endswith("-1000"):  # transactions of 1,000 events, as buffered_import's flushes
            extra = ["--set", "max_messages=1000"]
        env = dict(os.environ, SAMSA_LOG_LEVEL="warn")
        started = time.time()
        proc = subprocess.Popen([str(bin_dir / binary), "server", "--brokers", brokers, "--db", db, *extra,
                                 "--set", "kafka.session.timeout.ms=6000", "--set", "kafka.heartbeat.interval.ms=500"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        n = 0
        while time.time() - started < 300:
            try:
                n = count()
            except subprocess.CalledProcessError:
                n = 0
            if n >= events:
                break
            time.sleep(0.05)
        seconds = time.time() - started
        cpu = cpu_seconds(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        if case == "exactly-once-postgresql":
            psql(postgres, f"DROP DATABASE {name} WITH (FORCE)")
        if n < events:
            raise SystemExit(f"{case}: {n} of {events} imported in 300 s")
        return events / seconds, cpu / events * 100_000
    finally:
        broker.kill()
        broker.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=str(ROOT / "build"))
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--postgres", help="a PostgreSQL server's URI (default: start one)")
    args = p.parse_args()
    bin_dir = Path(args.build) / "bin"
    work = Path(tempfile.mkdtemp(prefix="exactly_once_bench."))
    started_pg = False
    postgres = args.postgres
    env = dict(os.environ, SAMSA_POSTGRES_DIR=str(work / "postgres"))
    try:
        if not postgres:
            line = subprocess.run([str(ROOT / "scripts" / "postgres-local"), "start"], env=env, check=True,
                                  capture_output=True, text=True).stdout.strip().splitlines()[-1]
            postgres = line.split(" ", 1)[1]
            started_pg = True
        cases = ["at-least-once", "exactly-once-sqlite", "exactly-once-sqlite-1000", "exactly-once-postgresql"]
        results = {c: [] for c in cases}
        for rep in range(args.reps):
            for case in cases[rep % len(cases):] + cases[:rep % len(cases)]:
                rate, cpu = run_case(bin_dir, case, args.events, work, postgres)
                results[case].append((rate, cpu))
                print(f"rep {rep + 1} {case:24} {rate:10,.0f} events/s  {cpu:.3f} CPU s / 100k events", flush=True)

        def fmt(values, pattern):
            return f"{pattern.format(statistics.median(values))} ({pattern.format(min(values))}-{pattern.format(max(values))})"
        print()
        print(f"{args.events:,} events of about 45 bytes over 4 partitions, embedded broker, median (min-max) of {args.reps}:")
        print()
        print("| case | events/s | CPU s / 100,000 events |")
        print("|---|---:|---:|")
        for case in cases:
            rates = [r for r, _ in results[case]]
            cpus = [c for _, c in results[case]]
            print(f"| {case} | {fmt(rates, '{:,.0f}')} | {fmt(cpus, '{:.3f}')} |")
    finally:
        if started_pg:
            subprocess.run([str(ROOT / "scripts" / "postgres-local"), "stop"], env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
