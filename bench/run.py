#!/usr/bin/env python3
"""make bench: Samsa against a raw librdkafka loop and its peers, on a real Kafka broker.

Starts real Kafka (scripts/kafka-local), preloads topics, then measures the consumption of
each whole topic: messages per second, MB per second, CPU seconds and peak RSS, for

  - raw:            a plain librdkafka consumer loop in C with Samsa's librdkafka settings,
                    storing no offsets (the limit Samsa is measured against)
  - raw-autostore:  the same loop with librdkafka's defaults (an offset store per message),
                    the loop most users write
  - Samsa:          auto-batch, auto-message, manual-each, sync-every-1000 (concurrency 1),
                    and auto-batch with concurrency 2
  - java:           Kafka's own Java consumer (ConsumerPerformance)
  - kcat:           kcat, librdkafka's command-line consumer

and other figures: commits per second under per-message marking, SIGTERM-to-exit time with
work in flight, the pause in consumption while a member joins, and RSS with 1,000
partitions.

Each case runs --reps times, each run right after a raw run on the same topic, and the
report gives the median and the ratio to the median raw rate of the same run. Results go
to bench/results/: results.json, results.md and chart.png. Rates are timed from the first
message to the last (group joins excluded); java uses ConsumerPerformance's fetch rate,
which excludes its rebalance time too; kcat (no group) is timed over its whole process.
"""
import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "build" / "bin"
RESULTS = ROOT / "bench" / "results"
SAMSA_MODES = ["auto-batch", "auto-message", "manual-each", "sync-every-1000"]


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def timed(cmd, env=None, timeout=900):
    """Runs cmd under GNU time; returns (stdout, cpu seconds, peak RSS KB, wall seconds)."""
    with tempfile.NamedTemporaryFile("r") as t:
        start = time.time()
        p = subprocess.run(["/usr/bin/time", "-o", t.name, "-f", "%U %S %M", *cmd], env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=timeout)
        wall = time.time() - start
        if p.returncode != 0:
            raise RuntimeError(f"{cmd[0]} exited {p.returncode}")
        user, sys_, rss = t.read().split()[-3:]
    return p.stdout, float(user) + float(sys_), int(rss), wall


class Kafka:
    def __init__(self):
        self.env = dict(os.environ, SAMSA_KAFKA_DIR=str(ROOT / "build" / "bench" / "kafka"))
        self.script = str(ROOT / "scripts" / "kafka-local")

    def start(self):
        out = subprocess.run([self.script, "start"], env=self.env, check=True, text=True,
                             stdout=subprocess.PIPE).stdout.strip().splitlines()
        self.bootstrap = out[-1].split(" ", 1)[1]
        return self.bootstrap

    def stop(self):
        subprocess.run([self.script, "stop"], env=self.env, check=False, stdout=subprocess.DEVNULL)

    def tool_cmd(self, cls, *args):
        return [self.script, "tool", cls, *args]

    def create_topic(self, topic, partitions):
        subprocess.run(self.tool_cmd("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", self.bootstrap,
                                     "--create", "--if-not-exists", "--topic", topic, "--partitions", str(partitions),
                                     "--replication-factor", "1"), env=self.env, check=True, stdout=subprocess.DEVNULL)


def run_case(kafka, case, topic, n, size):
    brokers = kafka.bootstrap
    if case == "java":
        out, cpu, rss, wall = timed(kafka.tool_cmd("org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server",
                                                   brokers, "--topic", topic, "--messages", str(n), "--group",
                                                   f"bench-java-{uuid.uuid4().hex[:8]}", "--timeout", "120000"),
                                    env=kafka.env)
        # start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
        # rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
        row = [line for line in out.splitlines() if re.match(r"^\d{4}-", line)][-1].split(", ")
        rate = float(row[9])
        return dict(msg_per_s=rate, mb_per_s=float(row[8]), cpu_s=cpu, peak_rss_kb=rss)
    if case == "kcat":
        out, cpu, rss, wall = timed(["kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q",
                                     "-c", str(n), "-f", "%o\\n"])
        got = out.count("\n")
        if got < n:
            raise RuntimeError(f"kcat consumed {got} of {n}")
        return dict(msg_per_s=n / wall, mb_per_s=n * size / 1e6 / wall, cpu_s=cpu, peak_rss_kb=rss)
    mode, concurrency = (case, "1")
    if case == "auto-batch-c2":
        mode, concurrency = "auto-batch", "2"
    out, cpu, rss, wall = timed([str(BIN / "samsa-bench"), "--brokers", brokers, "--topic", topic, "--mode", mode,
                                 "--messages", str(n), "--concurrency", concurrency])
    r = json.loads(out.strip().splitlines()[-2])
    return dict(msg_per_s=r["msg_per_s"], mb_per_s=r["mb_per_s"], cpu_s=cpu, peak_rss_kb=rss,
                commits=r["commits"], seconds=r["seconds"])


def sigterm_to_exit(kafka, topic):
    """Seconds from SIGTERM to exit for a server in the middle of a topic."""
    p = subprocess.Popen([str(BIN / "samsa-bench"), "--brokers", kafka.bootstrap, "--topic", topic, "--mode",
                          "auto-batch", "--messages", str(10**9)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(6)
    start = time.time()
    p.send_signal(signal.SIGTERM)
    rc = p.wait(120)
    return time.time() - start, rc


def rebalance_pause(kafka):
    """The longest gap in consumption while a second member joins a busy group: two
    verifiable_consumers on a topic fed at a steady rate; gaps from their record timestamps."""
    topic = "rebalance-pause"
    kafka.create_topic(topic, 8)
    stop = {"now": False}

    def feed():
        first = 0
        while not stop["now"]:
            subprocess.run([str(BIN / "samsa"), "produce", "--brokers", kafka.bootstrap, "--topic", topic, "--count",
                            "2000", "--first", str(first)], check=True, stdout=subprocess.DEVNULL)
            first += 2000
            time.sleep(0.1)

    import threading
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    outs, procs = [], []
    for i in range(2):
        f = tempfile.TemporaryFile("w+")
        procs.append(subprocess.Popen([str(BIN / "verifiable_consumer"), "--bootstrap-server", kafka.bootstrap,
                                       "--topic", topic, "--group-id", "rebalance-pause"], stdout=f,
                                      stderr=subprocess.DEVNULL))
        outs.append(f)
        time.sleep(8)  # the first member settles before the second joins
    joined = time.time() * 1000
    time.sleep(8)
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait(60)
    stop["now"] = True
    feeder.join()
    stamps = []
    for f in outs:
        f.seek(0)
        stamps += [json.loads(l)["timestamp"] for l in f if '"records_consumed"' in l]
    stamps.sort()
    before = [b - a for a, b in zip(stamps, stamps[1:]) if b < joined - 1000]
    during = [b - a for a, b in zip(stamps, stamps[1:]) if joined - 1000 <= a <= joined + 7000]
    return dict(longest_gap_ms_steady=max(before, default=0), longest_gap_ms_join=max(during, default=0))


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return dict(cpu=cpu, cores=os.cpu_count(), memory_gib=round(mem / 1024 / 1024, 1), os=platform.platform(),
                kafka="3.9.1 (1 KRaft node on 127.0.0.1)", librdkafka="2.0.2 (Debian 12)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small topics, p1 and p8 only (a smoke run)")
    args = ap.parse_args()

    if args.quick:
        topics = [("b100-p1", 1, 100, 300_000), ("b100-p8", 8, 100, 300_000), ("kb1-p8", 8, 1000, 100_000)]
    else:
        topics = [(f"b100-p{p}", p, 100, 2_000_000) for p in (1, 8, 64)] + \
                 [(f"kb1-p{p}", p, 1000, 500_000) for p in (1, 8, 64)]
    cases = SAMSA_MODES + ["auto-batch-c2", "raw-autostore", "java", "kcat"]

    kafka = Kafka()
    results = dict(machine=machine(), reps=args.reps, topics=[], extra={})
    try:
        log(f"real Kafka at {kafka.start()}")
        for name, parts, size, n in topics:
            kafka.create_topic(name, parts)
            log(f"preloading {name}: {n} x {size} B over {parts} partitions")
            # samsa produce's JSON event is ~45 bytes before its padding.
            subprocess.run([str(BIN / "samsa"), "produce", "--brokers", kafka.bootstrap, "--topic", name,
                            "--count", str(n), "--payload-bytes", str(max(0, size - 45)), "--timeout", "900"],
                           check=True, stdout=subprocess.DEVNULL)
        for name, parts, size, n in topics:
            runs = {c: [] for c in ["raw"] + cases}
            for rep in range(args.reps):
                for case in cases:
                    for c in ("raw", case):  # alternate: every case right after a raw run
                        r = run_case(kafka, c, name, n, size)
                        runs[c].append(r)
                        log(f"{name} rep {rep + 1}: {c:16} {r['msg_per_s']:>12,.0f} msg/s  cpu {r['cpu_s']:.2f} s  "
                            f"rss {r['peak_rss_kb'] / 1024:.0f} MiB")
            raw_median = statistics.median(r["msg_per_s"] for r in runs["raw"])
            summary = {}
            for c, rs in runs.items():
                med = statistics.median(r["msg_per_s"] for r in rs)
                summary[c] = dict(msg_per_s=med,
                                  mb_per_s=statistics.median(r["mb_per_s"] for r in rs),
                                  cpu_s=statistics.median(r["cpu_s"] for r in rs),
                                  peak_rss_mib=statistics.median(r["peak_rss_kb"] for r in rs) / 1024,
                                  ratio_to_raw=med / raw_median)
                if "commits" in rs[0]:
                    summary[c]["commits_per_s"] = statistics.median(r["commits"] / r["seconds"] for r in rs if r["seconds"])
            results["topics"].append(dict(topic=name, partitions=parts, message_bytes=size, messages=n,
                                          summary=summary, runs=runs))
        # Other figures.
        t, rc = sigterm_to_exit(kafka, topics[-1][0])
        results["extra"]["sigterm_to_exit_s"] = round(t, 3)
        results["extra"]["sigterm_exit_code"] = rc
        results["extra"]["rebalance"] = rebalance_pause(kafka)
        kafka.create_topic("p1000", 1000)
        subprocess.run([str(BIN / "samsa"), "produce", "--brokers", kafka.bootstrap, "--topic", "p1000", "--count",
                        "100000", "--payload-bytes", "55"], check=True, stdout=subprocess.DEVNULL)
        for c in ("raw", "auto-batch"):
            r = run_case(kafka, c, "p1000", 100_000, 100)
            results["extra"][f"rss_1000_partitions_{c}_mib"] = round(r["peak_rss_kb"] / 1024, 1)
    finally:
        kafka.stop()

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=1))
    write_markdown(results)
    subprocess.run(["/usr/bin/python3", str(ROOT / "bench" / "chart.py"), str(RESULTS / "results.json"),
                    str(RESULTS / "chart.png")], check=False)
    print((RESULTS / "results.md").read_text())


def write_markdown(results):
    m = results["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}; Kafka {m['kafka']}; "
             f"librdkafka {m['librdkafka']}. Median of {results['reps']} runs; ratio = rate / raw librdkafka rate "
             f"of the same run.", ""]
    lines.append("| topic | case | msg/s | MB/s | ratio to raw | CPU s | peak RSS MiB | commits/s |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for t in results["topics"]:
        for c, s in t["summary"].items():
            commits = f"{s['commits_per_s']:.1f}" if "commits_per_s" in s else ""
            lines.append(f"| {t['topic']} ({t['messages']:,} x {t['message_bytes']} B, {t['partitions']} p) | {c} | "
                         f"{s['msg_per_s']:,.0f} | {s['mb_per_s']:.1f} | {s['ratio_to_raw']:.2f} | {s['cpu_s']:.2f} | "
                         f"{s['peak_rss_mib']:.0f} | {commits} |")
    e = results["extra"]
    lines += ["", f"SIGTERM to exit with work in flight: {e.get('sigterm_to_exit_s')} s (exit code "
                  f"{e.get('sigterm_exit_code')}). Peak RSS with 1,000 partitions: Samsa "
                  f"{e.get('rss_1000_partitions_auto-batch_mib')} MiB, raw librdkafka "
                  f"{e.get('rss_1000_partitions_raw_mib')} MiB. Pause in consumption while a second member "
                  f"joins (eager, two verifiable_consumers, steady load): longest gap "
                  f"{e.get('rebalance', {}).get('longest_gap_ms_join')} ms, against "
                  f"{e.get('rebalance', {}).get('longest_gap_ms_steady')} ms in steady state."]
    (RESULTS / "results.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
