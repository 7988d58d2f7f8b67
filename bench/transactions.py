#!/usr/bin/env python3
"""What Kafka transactions cost: examples/transactional_copy copying a topic to another
with one Kafka transaction per batch (max_messages: 100, Samsa's default, and 1,000),
against the same copy at-least-once (--at-least-once: App::producer(), each batch's copies
awaited before the batch is marked, offsets committed by librdkafka's auto-commit).

Each run uses a real Kafka (scripts/kafka-local; the embedded broker does not commit
transactional offsets), fresh topics IN and OUT (4 partitions each; the consumer group is
always `copy`, so fresh topics give it fresh offsets), preloads --events events into IN,
starts the copy (a fresh transactional.id per run), polls the group's committed offsets
every 0.2 s until they equal IN's log end, stops it with SIGTERM, and reports messages per
second (from its start to the poll that saw everything committed) and the process's CPU
seconds per 100,000 messages (user + system, from /proc/<pid>/stat just before the stop).
Every run is verified: OUT read read_committed must hold each input message exactly once
(by its source_partition/source_offset headers), or the script fails.

The at-least-once cases commit every 100 ms (kafka.auto.commit.interval.ms=100): at
librdkafka's default of 5 s the last commit lands up to 5 s after the last copy, and
"all committed" would measure the commit timer rather than the copy. Their runs also
record when OUT's log end reached --events (all copies acknowledged): seconds_to_copied.

Cases alternate within each rep; median (min-max) of --reps.

    bench/transactions.py [--build build] [--events 200000] [--reps 3]
                          [--brokers HOST:PORT | --kafka-dir DIR] [--kafka-version 4.1.2]

Without --brokers it starts a single-node Kafka in --kafka-dir (default: a temporary
directory) and stops it at the end. Writes bench/results/transactions.{md,json}.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
# (name, transactional, max_messages)
CASES = [("at-least-once-100", False, 100), ("transactions-100", True, 100),
         ("at-least-once-1000", False, 1000), ("transactions-1000", True, 1000)]
TIMEOUT = 300  # seconds a run may take to commit everything


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def offsets(bin_dir, brokers, topics):
    """{topic: [(committed or None, end), ...]} from `samsa offsets --group copy`."""
    cmd = [str(bin_dir / "samsa"), "offsets", "--brokers", brokers, "--group", "copy"]
    for t in topics:
        cmd += ["--topic", t]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        return None
    table = {}
    for line in out.stdout.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 4 and cols[0] in topics:
            table.setdefault(cols[0], []).append((None if cols[2] == "-" else int(cols[2]), int(cols[3])))
    return table


def log_problems(log):
    """The warn and error entries of a Samsa text log (with their indented continuation lines)."""
    problems, keep = [], False
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"^\d{4}-\d\d-\d\d \S+ (\w+)\s", line)
        if m:
            keep = m.group(1) in ("warn", "warning", "error", "critical")
            if keep:
                problems.append(line)
        elif line.startswith((" ", "\t")):
            if keep:
                problems[-1] += "\n" + line
        elif line.strip():  # not a log entry at all (e.g. librdkafka to stderr)
            problems.append(line)
    return problems


def verify(bin_dir, brokers, topic, events):
    """OUT read read_committed: exactly one copy of each input message, or fail loudly."""
    out = subprocess.run([str(bin_dir / "samsa_topic_reader"), "--brokers", brokers, "--topic", topic,
                          "--isolation", "read_committed"], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"samsa_topic_reader --topic {topic} failed ({out.returncode}): {out.stderr.strip()}")
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    sources = set()
    for line in lines:
        h = json.loads(line).get("headers", {})
        sources.add((h.get("source_partition"), h.get("source_offset")))
    if len(lines) != events or len(sources) != events:
        raise SystemExit(f"VERIFY FAILED: {topic} holds {len(lines)} committed messages, {len(sources)} distinct "
                         f"sources; expected {events} of each")
    return len(lines)


def run_case(bin_dir, brokers, case, events, work, n):
    name, transactional, batch = case
    tin, tout = f"txbench-{os.getpid()}-{n}-in", f"txbench-{os.getpid()}-{n}-out"
    samsa = str(bin_dir / "samsa")
    subprocess.run([samsa, "produce", "--brokers", brokers, "--topic", tout, "--count", "0", "--partitions", "4"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([samsa, "produce", "--brokers", brokers, "--topic", tin, "--count", str(events),
                    "--partitions", "4"], check=True, stdout=subprocess.DEVNULL)
    extra = ["--transactional-id", f"bench-{os.getpid()}-{n}"] if transactional else \
        ["--at-least-once", "--set", "kafka.auto.commit.interval.ms=100"]
    if batch != 100:
        extra += ["--set", f"max_messages={batch}"]
    log = work / f"{n}-{name}.log"
    with open(log, "w") as out:
        started = time.time()
        proc = subprocess.Popen([str(bin_dir / "transactional_copy"), "server", "--brokers", brokers,
                                 "--from", tin, "--to", tout, *extra], stdout=out, stderr=subprocess.STDOUT)
    try:
        committed = copied = None
        while time.time() - started < TIMEOUT and proc.poll() is None:
            table = offsets(bin_dir, brokers, [tin, tout])
            now = time.time()
            if table and tin in table:
                if copied is None and sum(end for _, end in table.get(tout, [])) >= events:
                    copied = now - started  # at-least-once: every copy acknowledged
                if sum(end for _, end in table[tin]) == events and all(c == end for c, end in table[tin]):
                    committed = now - started
                    break
            time.sleep(0.2)
        cpu = cpu_seconds(proc.pid) if proc.poll() is None else None
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    problems = log_problems(log)
    if committed is None or cpu is None:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise SystemExit(f"{name}: not everything committed in {TIMEOUT} s (exit {proc.returncode}); log tail:\n{tail}")
    if code != 0:
        problems.append(f"exit code {code} after SIGTERM")
    verify(bin_dir, brokers, tout, events)
    run = {"msg_per_s": events / committed, "cpu_s_per_100k": cpu / events * 100_000,
           "seconds_to_committed": round(committed, 3), "cpu_seconds": cpu, "log_problems": problems}
    if problems:  # the work directory goes at the end: keep what explains them
        run["log_tail"] = log.read_text(errors="replace").splitlines()[-30:]
    if not transactional:  # OUT's end counts transaction markers too: meaningful only here
        run["seconds_to_copied"] = None if copied is None else round(copied, 3)
    return run


def librdkafka_version(build, logs):
    for log in logs:  # what the copy ran on, from its startup line
        m = re.search(r" on librdkafka (\S+)", log)
        if m:
            return m.group(1)
    cache = Path(build) / "CMakeCache.txt"
    if cache.exists():
        m = re.search(r"^SAMSA_LIBRDKAFKA_PREFIX:PATH=.*librdkafka-([\d.]+)", cache.read_text(), re.M)
        if m:
            return m.group(1)
    return "2.14.2"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=str(ROOT / "build"))
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--brokers", help="a running Kafka's bootstrap servers (default: start one)")
    p.add_argument("--kafka-dir", help="state directory of the Kafka this script starts (default: temporary)")
    p.add_argument("--kafka-version", default="4.1.2")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "transactions"),
                   help="write OUT.md and OUT.json (default bench/results/transactions)")
    args = p.parse_args()
    bin_dir = Path(args.build) / "bin"
    work = Path(tempfile.mkdtemp(prefix="transactions_bench."))
    kafka_env = dict(os.environ, SAMSA_KAFKA_DIR=args.kafka_dir or str(work / "kafka"))
    brokers = args.brokers
    started_kafka = False
    try:
        if not brokers:
            started_kafka = True
            out = subprocess.run([str(ROOT / "scripts" / "kafka-local"), "start", "--kafka-version",
                                  args.kafka_version], env=kafka_env, check=True, capture_output=True, text=True)
            brokers = re.search(r"^bootstrap: (\S+)$", out.stdout, re.M).group(1)
        results = {c[0]: [] for c in CASES}
        logs = []
        n = 0
        for rep in range(args.reps):
            for case in CASES[rep % len(CASES):] + CASES[:rep % len(CASES)]:
                n += 1
                run = run_case(bin_dir, brokers, case, args.events, work, n)
                logs.append((work / f"{n}-{case[0]}.log").read_text(errors="replace"))
                results[case[0]].append(run)
                copied = f"  copied at {run['seconds_to_copied']} s" if run.get("seconds_to_copied") else ""
                print(f"rep {rep + 1} {case[0]:19} {run['msg_per_s']:9,.0f} msg/s  {run['cpu_s_per_100k']:.3f} CPU s "
                      f"/ 100k  committed at {run['seconds_to_committed']} s{copied}  verified", flush=True)
                for line in run["log_problems"]:
                    print(f"  log: {line}", flush=True)

        def stats(values):
            return {"median": statistics.median(values), "min": min(values), "max": max(values)}

        def fmt(s, pattern):
            return f"{pattern.format(s['median'])} ({pattern.format(s['min'])}-{pattern.format(s['max'])})"

        summary = {}
        for name, transactional, batch in CASES:
            runs = results[name]
            summary[name] = {"transactional": transactional, "max_messages": batch,
                             "msg_per_s": stats([r["msg_per_s"] for r in runs]),
                             "cpu_s_per_100k": stats([r["cpu_s_per_100k"] for r in runs])}
        for name, transactional, batch in CASES:
            if transactional:
                base = summary[f"at-least-once-{batch}"]
                s = summary[name]
                s["msg_per_s_vs_at_least_once"] = s["msg_per_s"]["median"] / base["msg_per_s"]["median"]
                s["cpu_vs_at_least_once"] = s["cpu_s_per_100k"]["median"] / base["cpu_s_per_100k"]["median"]
        kafka = f"{args.kafka_version} (1 KRaft node on 127.0.0.1)" if started_kafka else \
            f"{args.kafka_version} (given --brokers {brokers})"
        librdkafka = librdkafka_version(args.build, logs)
        date = datetime.date.today().isoformat()
        command = "bench/transactions.py " + " ".join(sys.argv[1:])
        lines = [
            "# What Kafka transactions cost",
            "",
            f"`{command.strip()}` on {date}: Kafka {kafka}, librdkafka {librdkafka}, {os.cpu_count()} cores. "
            f"examples/transactional_copy copies {args.events:,} JSON events (about 45 bytes) from a 4-partition "
            "topic to another (adding two headers), consumer group `copy`; fresh topics and transactional.id per "
            "run. Rate: from the copy's start to the 0.2 s poll that saw every offset committed; CPU: the whole "
            "process's (user + system, startup and group join included). Each run verified: the output read "
            "read_committed holds each input message exactly once. At-least-once commits every 100 ms "
            f"(kafka.auto.commit.interval.ms=100). Median (min-max) of {args.reps} runs, cases alternating; the "
            "ratios compare medians with the at-least-once case of the same batch size.",
            "",
            "| case | batch (max_messages) | msg/s | CPU s / 100,000 msgs | msg/s vs at-least-once | CPU vs at-least-once |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, transactional, batch in CASES:
            s = summary[name]
            rate_ratio = f"{s['msg_per_s_vs_at_least_once']:.2f}" if transactional else "1"
            cpu_ratio = f"{s['cpu_vs_at_least_once']:.2f}" if transactional else "1"
            lines.append(f"| {name} | {batch:,} | {fmt(s['msg_per_s'], '{:,.0f}')} | "
                         f"{fmt(s['cpu_s_per_100k'], '{:.3f}')} | {rate_ratio} | {cpu_ratio} |")
        problems = sum(len(r["log_problems"]) for runs in results.values() for r in runs)
        lines += ["", f"Warnings or errors in the copies' logs: {problems}."]
        md = "\n".join(lines) + "\n"
        print()
        print(md, end="")
        doc = {"date": date, "command": command.strip(), "kafka": kafka, "librdkafka": librdkafka,
               "cores": os.cpu_count(), "events": args.events, "partitions": 4, "reps": args.reps,
               "at_least_once_settings": ["--at-least-once", "--set", "kafka.auto.commit.interval.ms=100"],
               "summary": summary, "runs": results}
        out = Path(args.out)
        out.with_suffix(".md").write_text(md)
        out.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
        print(f"\nwrote {out.with_suffix('.md')} and {out.with_suffix('.json')}")
    finally:
        if started_kafka:
            subprocess.run([str(ROOT / "scripts" / "kafka-local"), "stop"], env=kafka_env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
