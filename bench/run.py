#!/usr/bin/env python3
"""make bench: Samsa against a raw librdkafka loop and its peers, on a real Kafka broker.

Starts real Kafka (scripts/kafka-local), preloads topics, then measures the consumption of
each whole topic: messages per second, MB per second, CPU seconds and peak RSS, for

  - raw:            a plain librdkafka consumer loop in C with Samsa's librdkafka settings
                    (its fetch-queue defaults too), storing no offsets (the limit Samsa is
                    measured against)
  - raw-autostore:  the same loop with librdkafka's defaults (an offset store per message),
                    the loop most users write
  - raw-nowait:     (--cases only) the raw loop polling with timeout 0 first and waiting
                    only on an empty queue, as Samsa's listener polls
  - raw-batch:      the raw loop draining the consumer queue with rd_kafka_consume_batch_queue
                    (timeout 0; waiting 100 ms in rd_kafka_consumer_poll only when it returned
                    nothing), Samsa's librdkafka settings: the honest ceiling
  - Samsa:          auto-batch, auto-message, manual-each, sync-every-1000 (concurrency 1,
                    max_messages 1000), and auto-batch with concurrency 2
  - auto-batch-defaults: (--cases only) Samsa's automatic marking per batch with every Samsa
                    default (max_messages 100, max_wait_time 1 s, concurrency 5): what an
                    application that sets only its brokers gets
  - java:           Kafka's own Java consumer (ConsumerPerformance)
  - kcat:           kcat, librdkafka's command-line consumer
  - python, franz:  (--cases only) peers that, like the raw loop, store no offsets, read every
                    payload byte (bench_checksum's sum) and are timed from their first
                    assignment: confluent-kafka-python (Consumer.consume batches of 1,000,
                    Samsa's librdkafka settings, the librdkafka its wheel bundles) and franz-go
                    (PollFetches, no commits; bench/peers/franz). run.py installs them on first
                    use: confluent-kafka from PyPI into a venv under ~/.cache/samsa/ (SAMSA_CACHE),
                    franz-go from the Go module proxy (go build with bench/peers/franz/go.sum)

and other figures: commits per second under per-message marking, SIGTERM-to-exit time with
work in flight, the pause in consumption while a member joins, and RSS with 1,000
partitions. Every raw loop and Samsa case reads every payload byte (a checksum, which must
come out the same for every case that consumed the same whole topic: a mismatch is logged).

Each case runs --reps times, each run right after a raw run on the same topic, and the
report gives the median and the ratio to the median raw rate of the same run. Results go
to bench/results/librdkafka-VERSION/ (the version the binaries of --build run on):
results.json, results.md, chart.png and, with --micro, micro.json. Rates are timed from the
group's first assignment to the last message (group joins excluded); java uses
ConsumerPerformance's fetch rate, which excludes its rebalance time too; kcat (no group,
Debian's kcat on librdkafka 2.0.2 whatever --build is) is timed over its whole process.

  run.py --build build --kafka-version 4.1.2            the binaries of a build directory,
                                                      on that Kafka version (scripts/kafka-local)
  run.py --cases auto-batch,manual-each,java          some cases only (raw always runs)
  run.py --study fetch-queue                          librdkafka's fetch-queue stall: raw and
                                                      auto-batch under fetch.queue.backoff.ms
                                                      (>= 2.1) or the queue sizes (2.0.x)
  run.py --study rebalance                            the pause in consumption while a second
                                                      member joins, per group protocol
  run.py --study io-bound                             IO-bound scaling: consume() sleeps 1 ms per
                                                      message (samsa-bench --mode io-bound) on
                                                      16 partitions, at concurrency 1, 2, 5, 10, 16
  run.py --study partitions                           the same backlog over 8 and over 1,000
                                                      partitions: raw-batch and auto-batch
                                                      rate, CPU per message, peak RSS, time to
                                                      the first message
  run.py --study latency                              a steady 2,000 msg/s producer
                                                      (samsa-bench-producer) while raw-batch,
                                                      auto-batch or auto-message is caught up:
                                                      p50/p99/max of receive time - CreateTime
A study writes STUDY.{json,md} (fetch-queue, rebalance, io-bound, partitions, latency) beside
the results.
"""
import argparse
import functools
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
BIN = ROOT / "build" / "bin"  # --build DIR sets BIN and RESULTS
RESULTS = ROOT / "bench" / "results"
SAMSA_MODES = ["auto-batch", "auto-message", "manual-each", "sync-every-1000"]
ALL_CASES = SAMSA_MODES + ["auto-batch-c2", "raw-batch", "raw-autostore", "java", "kcat"]
EXTRA_CASES = ["raw-nowait", "auto-batch-defaults", "python", "franz"]  # only with --cases (see the docstring)
CONFLUENT_KAFKA_VERSION = "2.16.1"  # the python case's PyPI pin


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Timed:
    """cmd started under GNU time (stdout to a temporary file); finish() waits for it and returns
    (stdout, cpu seconds, peak RSS KB, wall seconds)."""

    def __init__(self, cmd, env=None, stderr=subprocess.DEVNULL):
        self.cmd, self.start = cmd, time.time()
        self.times = tempfile.NamedTemporaryFile("r")
        self.out = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(["/usr/bin/time", "-o", self.times.name, "-f", "%U %S %M", *cmd], env=env,
                                     text=True, stdout=self.out, stderr=stderr)

    def finish(self, timeout=900):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            wall = time.time() - self.start
            self.out.seek(0)
            out = self.out.read()
            self.out.close()
            times = self.times.read()
            self.times.close()
        if rc != 0:
            raise RuntimeError(f"{self.cmd[0]} exited {rc}")
        user, sys_, rss = times.split()[-3:]
        return out, float(user) + float(sys_), int(rss), wall


def timed(cmd, env=None, timeout=900, stderr=subprocess.DEVNULL):
    """Runs cmd under GNU time; returns (stdout, cpu seconds, peak RSS KB, wall seconds)."""
    return Timed(cmd, env, stderr).finish(timeout)


class Kafka:
    def __init__(self, version, state_dir):
        self.version = version
        self.env = dict(os.environ, SAMSA_KAFKA_DIR=str(state_dir))
        self.script = str(ROOT / "scripts" / "kafka-local")

    def start(self):
        out = subprocess.run([self.script, "start", "--kafka-version", self.version], env=self.env, check=True,
                             text=True, stdout=subprocess.PIPE).stdout.strip().splitlines()
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


def produce(kafka, topic, n, size, first=0):
    # samsa produce's JSON event is ~45 bytes before its padding.
    subprocess.run([str(BIN / "samsa"), "produce", "--brokers", kafka.bootstrap, "--topic", topic, "--count", str(n),
                    "--first", str(first), "--payload-bytes", str(max(0, size - 45)), "--timeout", "900"],
                   check=True, stdout=subprocess.DEVNULL)


@functools.cache
def peer_cmd(case):
    """The command of peer `case` (python, franz), installed on first use."""
    if case == "python":
        venv = Path(os.environ.get("SAMSA_CACHE", Path.home() / ".cache" / "samsa")) / \
            f"peers-confluent-kafka-{CONFLUENT_KAFKA_VERSION}"
        marker = venv / "installed"
        if not marker.exists():
            log(f"installing confluent-kafka=={CONFLUENT_KAFKA_VERSION} from PyPI into {venv}")
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"confluent-kafka=={CONFLUENT_KAFKA_VERSION}"],
                           check=True)
            marker.write_text(f"confluent-kafka=={CONFLUENT_KAFKA_VERSION}\n")
        return [str(venv / "bin" / "python"), str(ROOT / "bench" / "peers" / "confluent_consumer.py")]
    src = ROOT / "bench" / "peers" / "franz"
    exe = BIN.parent / "bench" / "franz-consumer"
    if not exe.exists() or any(f.stat().st_mtime > exe.stat().st_mtime for f in src.iterdir()):
        log(f"building {exe} (franz-go from the Go module proxy, pinned by bench/peers/franz/go.sum)")
        subprocess.run(["go", "build", "-mod=readonly", "-o", str(exe), "."], cwd=src, check=True)
    return [str(exe)]


def bench_cmd(kafka, mode, topic, n, settings=(), concurrency=1, extra=()):
    """samsa-bench's command line; concurrency None passes none (samsa-bench's default)."""
    cmd = [str(BIN / "samsa-bench"), "--brokers", kafka.bootstrap, "--topic", topic, "--mode", mode, "--messages",
           str(n), *([] if concurrency is None else ["--concurrency", str(concurrency)]), *extra]
    for kv in settings:
        cmd += ["--set", kv]
    return cmd


def run_case(kafka, case, topic, n, size, settings=(), extra=(), concurrency=None):
    """One run of a case on a whole topic. `settings` (KEY=VALUE, samsa-bench --set), `extra`
    (more samsa-bench options) and `concurrency` (Samsa's; default 2 for auto-batch-c2, Samsa's
    own for auto-batch-defaults, else 1) apply to the raw loop and Samsa only."""
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
    if case in ("python", "franz"):
        out, cpu, rss, wall = timed(peer_cmd(case) + ["--brokers", brokers, "--topic", topic, "--messages", str(n)])
        r = json.loads(out.strip().splitlines()[-2])
        return dict(msg_per_s=r["msg_per_s"], mb_per_s=r["mb_per_s"], cpu_s=cpu, peak_rss_kb=rss, wall_s=wall,
                    seconds=r["seconds"], messages=r["messages"], checksum=r["checksum"], client=r["client"])
    mode = "auto-batch" if case == "auto-batch-c2" else case
    if concurrency is None and case != "auto-batch-defaults":
        concurrency = 2 if case == "auto-batch-c2" else 1
    return bench_result(timed(bench_cmd(kafka, mode, topic, n, settings, concurrency, extra)))


def bench_result(timed_output):
    """The figures of a samsa-bench run from its Timed output."""
    out, cpu, rss, wall = timed_output
    r = json.loads(out.strip().splitlines()[-2])
    return dict(msg_per_s=r["msg_per_s"], mb_per_s=r["mb_per_s"], cpu_s=cpu, peak_rss_kb=rss, wall_s=wall,
                commits=r["commits"], seconds=r["seconds"], max_gap_ms=r["max_gap_ms"], idle_s=r["idle_s"],
                messages=r["messages"], checksum=r["checksum"], settings=r["settings"],
                assigned_s=r.get("assigned_s"), first_message_s=r.get("first_message_s"),
                latency_ms=r.get("latency_ms"))


def sigterm_to_exit(kafka, topic):
    """Seconds from SIGTERM to exit for a server in the middle of a topic."""
    p = subprocess.Popen([str(BIN / "samsa-bench"), "--brokers", kafka.bootstrap, "--topic", topic, "--mode",
                          "auto-batch", "--messages", str(10**9)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(6)
    start = time.time()
    p.send_signal(signal.SIGTERM)
    rc = p.wait(120)
    return time.time() - start, rc


def rebalance_pause(kafka, protocol="classic", rebalance="eager", tag="0", mode="sync-each-batch"):
    """The longest gap in consumption while a second member joins a busy group. A steady feed
    (Kafka's ProducerPerformance, 5,000 msg/s of 100 B; batch.size 1,024 so that its sticky
    partitioner moves to another partition every ~10 records) into a new 8-partition topic; member A
    (samsa-bench --print-batches, committing each batch synchronously like Kafka's
    VerifiableConsumer, or in another samsa-bench `mode`) consumes alone for 8 s, then member B
    starts. The gaps come from the
    records_consumed timestamps of both members: the longest in the 10 s after B started,
    against the longest in the 5 s before; and, for each partition that moved from A to B,
    the gap from A's last batch of it to B's first."""
    topic = f"rebalance-{protocol}-{rebalance}-{tag}-{uuid.uuid4().hex[:6]}"
    group = f"g-{topic}"
    kafka.create_topic(topic, 8)
    feeder = subprocess.Popen(kafka.tool_cmd("org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                                             "--num-records", str(10**8), "--record-size", "100", "--throughput",
                                             "5000", "--producer-props", f"bootstrap.servers={kafka.bootstrap}",
                                             "linger.ms=5", "batch.size=1024"),
                              env=kafka.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    settings = [f"group_protocol={protocol}"]
    if protocol == "classic":
        settings.append(f"rebalance_protocol={rebalance}")
    time.sleep(3)
    outs, procs, started = [], [], []
    try:
        for _ in range(2):
            f = tempfile.TemporaryFile("w+")
            started.append(round(time.time() * 1000))
            procs.append(subprocess.Popen(bench_cmd(kafka, mode, topic, 10**12, settings,
                                                    extra=["--group", group, "--print-batches"]),
                                          stdout=f, stderr=subprocess.DEVNULL))
            outs.append(f)
            time.sleep(8 if len(procs) == 1 else 12)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(60)
        os.killpg(feeder.pid, signal.SIGTERM)
        feeder.wait(60)
    joined = started[1]
    members = []
    for f in outs:
        f.seek(0)
        members.append([json.loads(line) for line in f if line.startswith('{"timestamp"')])
    stamps = sorted(e["timestamp"] for m in members for e in m if e["name"] == "records_consumed")
    gaps = list(zip(stamps, stamps[1:]))
    steady = [b - a for a, b in gaps if joined - 5000 <= a and b <= joined]
    during = [b - a for a, b in gaps if b > joined and a <= joined + 10000]
    # Per partition that moved: A's last batch of it before B's first, to B's first.
    moved = []
    b_first = {}
    for e in members[1]:
        if e["name"] == "records_consumed":
            b_first.setdefault(e["partitions"][0]["partition"], e["timestamp"])
    for part, first in b_first.items():
        before = [e["timestamp"] for e in members[0] if e["name"] == "records_consumed"
                  and e["partitions"][0]["partition"] == part and e["timestamp"] <= first]
        if before:
            moved.append(first - max(before))
    b_assigned = next((e["timestamp"] for e in members[1] if e["name"] == "partitions_assigned" and e["partitions"]),
                      None)
    b_first_record = min(b_first.values(), default=None)
    # The same per-partition gap in steady state: the 5 s before B started.
    per_part = {}
    for m in members:
        for e in m:
            if e["name"] == "records_consumed" and joined - 5000 <= e["timestamp"] <= joined:
                per_part.setdefault(e["partitions"][0]["partition"], []).append(e["timestamp"])
    steady_part = [b - a for ts in per_part.values() for a, b in zip(sorted(ts), sorted(ts)[1:])]
    a_revoked = next((e["timestamp"] for e in members[0] if e["name"] == "partitions_revoked"
                      and e["timestamp"] > joined), None)
    return dict(protocol=protocol, rebalance=rebalance if protocol == "classic" else "incremental (KIP-848)", mode=mode,
                longest_gap_ms_steady=max(steady, default=None), longest_gap_ms_join=max(during, default=None),
                longest_partition_gap_ms=max(moved, default=None), partitions_moved=len(moved),
                longest_partition_gap_ms_steady=max(steady_part, default=None),
                b_assigned_after_ms=b_assigned - joined if b_assigned else None,
                b_first_batch_after_assigned_ms=b_first_record - b_assigned if b_assigned and b_first_record else None,
                gaps_over_100ms=[(round(a - joined), b - a) for a, b in gaps
                                 if b - a >= 100 and joined - 5000 <= a <= joined + 10000],
                a_revoked_after_ms=a_revoked - joined if a_revoked else None,
                batches=len(stamps))


def rebalance_configs(librdkafka, kafka_version):
    """The group protocols this librdkafka and Kafka can run: classic eager everywhere,
    and KIP-848's consumer protocol (plus classic cooperative-sticky) from librdkafka 2.12
    and Kafka 4."""
    configs = [("classic", "eager")]
    if version_tuple(librdkafka) >= (2, 12) and version_tuple(kafka_version) >= (4, 0):
        configs += [("consumer", "incremental"), ("classic", "cooperative-sticky")]
    return configs


def version_tuple(v):
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def librdkafka_version():
    return subprocess.run([str(BIN / "samsa-bench"), "--librdkafka-version"], check=True, text=True,
                          stdout=subprocess.PIPE).stdout.strip()


def machine(librdkafka, kafka_version):
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    origin = "Debian 12" if librdkafka == "2.0.2" else "scripts/librdkafka-modern"
    return dict(cpu=cpu, cores=os.cpu_count(), memory_gib=round(mem / 1024 / 1024, 1), os=platform.platform(),
                kafka=f"{kafka_version} (1 KRaft node on 127.0.0.1)", librdkafka=f"{librdkafka} ({origin})")


def spread(values):
    """Median, min and max of a list of numbers (None when empty)."""
    values = [v for v in values if v is not None]
    if not values:
        return dict(median=None, min=None, max=None)
    return dict(median=statistics.median(values), min=min(values), max=max(values))


def main():
    global BIN, RESULTS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small topics, p1 and p8 only (a smoke run)")
    ap.add_argument("--build", default="build", help="build directory with bin/samsa-bench (default: build)")
    ap.add_argument("--kafka-version", default=os.environ.get("SAMSA_KAFKA_VERSION", "3.9.1"),
                    help="Kafka version for scripts/kafka-local (default: 3.9.1)")
    ap.add_argument("--cases", help=f"comma-separated cases besides raw (default: all: {','.join(ALL_CASES)}; "
                                    f"also {','.join(EXTRA_CASES)})")
    ap.add_argument("--topics", help="comma-separated topic names (default: all), e.g. b100-p8,kb1-p8")
    ap.add_argument("--no-extra", action="store_true", help="skip the other figures (SIGTERM, rebalance, 1,000 p)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a samsa-bench --set for the raw loop and Samsa cases (repeatable), e.g. "
                         "kafka.fetch.queue.backoff.ms=20; java and kcat run as they are")
    ap.add_argument("--micro", action="store_true", help="also run samsa_micro_bench into micro.json")
    ap.add_argument("--eff-topics", default="1:5000000,8:2000000,1000:2000000",
                    help="efficiency study: PARTITIONS:MESSAGES topics, 100 B each (default: "
                         "1:5000000,8:2000000,1000:2000000)")
    ap.add_argument("--eff-cases", default=",".join(EFFICIENCY_CASES),
                    help=f"efficiency study: cases (default: {','.join(EFFICIENCY_CASES)}; the peers "
                         f"{','.join(EFFICIENCY_PEERS)} too when named)")
    ap.add_argument("--study", choices=("fetch-queue", "fetch-queue-debug", "rebalance", "io-bound", "partitions", "efficiency",
                                        "latency"),
                    help="run one study instead of the benchmark")
    ap.add_argument("--messages", type=int, default=4_000_000, help="fetch-queue study: topic size (100 B each)")
    ap.add_argument("--consumer-mode", default="sync-each-batch",
                    help="rebalance study: the members' samsa-bench mode (default: sync-each-batch, a commitSync "
                         "per batch like Kafka's VerifiableConsumer; auto-batch for background commits)")
    ap.add_argument("--concurrencies", default="1,2,5,10,16", help="io-bound study: the concurrencies (default: "
                                                                   "1,2,5,10,16)")
    ap.add_argument("--io-backlog", type=int, default=10_000,
                    help="io-bound study: messages per partition of its 16-partition topic (default: 10,000)")
    ap.add_argument("--io-messages-per-worker", type=int, default=9_000,
                    help="io-bound study: a run consumes this many messages x min(concurrency, 16), about 10 s "
                         "at ~900 msg/s per worker (default: 9,000)")
    ap.add_argument("--io-max-seconds", type=float, default=20,
                    help="io-bound study: a run stops after this long even before its messages (default: 20)")
    ap.add_argument("--part-messages", type=int, default=2_000_000,
                    help="partitions study: the backlog of each topic, 100 B each (default: 2,000,000)")
    ap.add_argument("--partition-counts", default="8,1000",
                    help="partitions study: the topics' partition counts (default: 8,1000; the ratios are "
                         "of the last to the first)")
    ap.add_argument("--latency-rate", type=float, default=2000, help="latency study: msg/s (default: 2,000)")
    ap.add_argument("--latency-seconds", type=float, default=30, help="latency study: seconds of production "
                                                                      "per run (default: 30)")
    ap.add_argument("--latency-partitions", type=int, default=4, help="latency study: the topic's partitions "
                                                                      "(default: 4)")
    ap.add_argument("--latency-cases", default="raw-batch,auto-batch,auto-message",
                    help="latency study: samsa-bench modes (default: raw-batch,auto-batch,auto-message)")
    ap.add_argument("--out", help="results directory (default: bench/results/librdkafka-VERSION)")
    ap.add_argument("--kafka-dir", help="scripts/kafka-local's state directory (SAMSA_KAFKA_DIR; default: "
                                        "BUILD/bench/kafka)")
    args = ap.parse_args()
    build = Path(args.build)
    build = build if build.is_absolute() else ROOT / build
    BIN = build / "bin"
    librdkafka = librdkafka_version()
    RESULTS = Path(args.out) if args.out else ROOT / "bench" / "results" / f"librdkafka-{librdkafka}"
    log(f"{BIN}: librdkafka {librdkafka}; Kafka {args.kafka_version}; results in {RESULTS}")
    kafka = Kafka(args.kafka_version, Path(args.kafka_dir) if args.kafka_dir else build / "bench" / "kafka")
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine(librdkafka, args.kafka_version)
    if args.study == "fetch-queue":
        return fetch_queue_study(kafka, args, librdkafka, info)
    if args.study == "fetch-queue-debug":
        return fetch_queue_debug_study(kafka, args, librdkafka, info)
    if args.study == "rebalance":
        return rebalance_study(kafka, args, librdkafka, info)
    if args.study == "io-bound":
        return io_bound_study(kafka, args, info)
    if args.study == "partitions":
        return partitions_study(kafka, args, info)
    if args.study == "latency":
        return latency_study(kafka, args, info)
    if args.study == "efficiency":
        return efficiency_study(kafka, args, info)

    if args.micro:
        subprocess.run([str(BIN / "samsa_micro_bench"), "--benchmark_min_time=0.5",
                        f"--benchmark_out={RESULTS / 'micro.json'}", "--benchmark_out_format=json"], check=True)
    if args.quick:
        topics = [("b100-p1", 1, 100, 300_000), ("b100-p8", 8, 100, 300_000), ("kb1-p8", 8, 1000, 100_000)]
    else:
        topics = [(f"b100-p{p}", p, 100, 2_000_000) for p in (1, 8, 64)] + \
                 [(f"kb1-p{p}", p, 1000, 500_000) for p in (1, 8, 64)]
    if args.topics:
        topics = [t for t in topics if t[0] in args.topics.split(",")]
    cases = args.cases.split(",") if args.cases else ALL_CASES
    unknown = set(cases) - set(ALL_CASES + EXTRA_CASES)
    if unknown or not topics:
        sys.exit(f"run.py: unknown cases {sorted(unknown)} or no topic left")

    results = dict(machine=info, reps=args.reps, settings=args.set, topics=[], extra={})
    try:
        log(f"real Kafka at {kafka.start()}")
        for name, parts, size, n in topics:
            kafka.create_topic(name, parts)
            log(f"preloading {name}: {n} x {size} B over {parts} partitions")
            produce(kafka, name, n, size)
        for name, parts, size, n in topics:
            runs = {c: [] for c in ["raw"] + cases}
            for rep in range(args.reps):
                for case in cases:
                    for c in ("raw", case):  # alternate: every case right after a raw run
                        r = run_case(kafka, c, name, n, size, args.set)
                        runs[c].append(r)
                        log(f"{name} rep {rep + 1}: {c:16} {r['msg_per_s']:>12,.0f} msg/s  cpu {r['cpu_s']:.2f} s  "
                            f"rss {r['peak_rss_kb'] / 1024:.0f} MiB")
            checksums = {c: sorted({r["checksum"] for r in rs}) for c, rs in runs.items() if rs and "checksum" in rs[0]}
            if len({x for sums in checksums.values() for x in sums}) > 1:
                log(f"{name}: WARNING: the cases read different payloads (checksums {checksums})")
            raw_median = statistics.median(r["msg_per_s"] for r in runs["raw"])
            summary = {}
            for c, rs in runs.items():
                med = statistics.median(r["msg_per_s"] for r in rs)
                summary[c] = dict(msg_per_s=med,
                                  msg_per_s_min=min(r["msg_per_s"] for r in rs),
                                  msg_per_s_max=max(r["msg_per_s"] for r in rs),
                                  mb_per_s=statistics.median(r["mb_per_s"] for r in rs),
                                  cpu_s=statistics.median(r["cpu_s"] for r in rs),
                                  cpu_s_per_million=spread([r["cpu_s"] / (n / 1e6) for r in rs]),
                                  peak_rss_mib=statistics.median(r["peak_rss_kb"] for r in rs) / 1024,
                                  ratio_to_raw=med / raw_median)
                if "commits" in rs[0]:
                    summary[c]["commits_per_s"] = statistics.median(r["commits"] / r["seconds"] for r in rs if r["seconds"])
                if "max_gap_ms" in rs[0]:
                    summary[c]["max_gap_ms"] = statistics.median(r["max_gap_ms"] for r in rs)
            if "raw-batch" in summary:  # the honest ceiling: each case's median over raw-batch's
                ceiling = summary["raw-batch"]
                for c, sm in summary.items():
                    sm["ratio_to_raw_batch"] = sm["msg_per_s"] / ceiling["msg_per_s"]
                    sm["cpu_per_million_ratio_to_raw_batch"] = (sm["cpu_s_per_million"]["median"] /
                                                                ceiling["cpu_s_per_million"]["median"])
            results["topics"].append(dict(topic=name, partitions=parts, message_bytes=size, messages=n,
                                          summary=summary, runs=runs, checksums=checksums))
        if not args.no_extra:
            t, rc = sigterm_to_exit(kafka, topics[-1][0])
            results["extra"]["sigterm_to_exit_s"] = round(t, 3)
            results["extra"]["sigterm_exit_code"] = rc
            results["extra"]["rebalance"] = [rebalance_pause(kafka, p, r)
                                             for p, r in rebalance_configs(librdkafka, args.kafka_version)]
            kafka.create_topic("p1000", 1000)
            produce(kafka, "p1000", 100_000, 100)
            for c in ("raw", "auto-batch"):
                r = run_case(kafka, c, "p1000", 100_000, 100)
                results["extra"][f"rss_1000_partitions_{c}_mib"] = round(r["peak_rss_kb"] / 1024, 1)
    finally:
        kafka.stop()

    (RESULTS / "results.json").write_text(json.dumps(results, indent=1))
    write_markdown(results)
    subprocess.run(["/usr/bin/python3", str(ROOT / "bench" / "chart.py"), str(RESULTS / "results.json"),
                    str(RESULTS / "chart.png")], check=False)
    print((RESULTS / "results.md").read_text())


def header(results, what):
    m = results["machine"]
    return (f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}; Kafka {m['kafka']}; "
            f"librdkafka {m['librdkafka']}. {what}")


def write_markdown(results):
    extra = f" Raw loop and Samsa with {', '.join(results['settings'])}." if results.get("settings") else ""
    lines = [header(results, f"Median of {results['reps']} runs (min-max of the rate beside it); ratio = rate / "
                             f"raw librdkafka rate of the same run; CPU s per million messages.{extra}"), ""]
    lines.append("| topic | case | msg/s | min-max msg/s | MB/s | ratio to raw | CPU s | CPU s / M msgs | "
                 "peak RSS MiB | commits/s |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in results["topics"]:
        for c, s in t["summary"].items():
            commits = f"{s['commits_per_s']:.1f}" if "commits_per_s" in s else ""
            per_m = s.get("cpu_s_per_million", {}).get("median")
            low, high = s.get("msg_per_s_min"), s.get("msg_per_s_max")
            lines.append(f"| {t['topic']} ({t['messages']:,} x {t['message_bytes']} B, {t['partitions']} p) | {c} | "
                         f"{s['msg_per_s']:,.0f} | {f'{low:,.0f}-{high:,.0f}' if low is not None else ''} | "
                         f"{s['mb_per_s']:.1f} | {s['ratio_to_raw']:.2f} | {s['cpu_s']:.2f} | "
                         f"{f'{per_m:.2f}' if per_m is not None else ''} | {s['peak_rss_mib']:.0f} | {commits} |")
    against = [(t, c, s) for t in results["topics"] for c, s in t["summary"].items() if "ratio_to_raw_batch" in s]
    if against:
        lines += ["", "Against raw-batch (the raw loop draining with rd_kafka_consume_batch_queue, the honest "
                      "ceiling), medians over medians:", "",
                  "| topic | case | rate / raw-batch | CPU per message / raw-batch |", "|---|---|---:|---:|"]
        lines += [f"| {t['topic']} | {c} | {s['ratio_to_raw_batch']:.2f} | {s['cpu_per_million_ratio_to_raw_batch']:.2f} |"
                  for t, c, s in against]
    settings = {c: rs[0]["settings"] for t in results["topics"] for c, rs in t["runs"].items()
                if rs and "settings" in rs[0]}
    if settings:
        lines += settings_lines(settings)
    clients = sorted({f"{c}: {r['client']}" for t in results["topics"] for c, rs in t["runs"].items() for r in rs
                      if r.get("client")})
    if clients:
        lines += ["", f"Peers: {'; '.join(clients)}."]
    e = results["extra"]
    if e:
        lines += ["", f"SIGTERM to exit with work in flight: {e.get('sigterm_to_exit_s')} s (exit code "
                      f"{e.get('sigterm_exit_code')}). Peak RSS with 1,000 partitions: Samsa "
                      f"{e.get('rss_1000_partitions_auto-batch_mib')} MiB, raw librdkafka "
                      f"{e.get('rss_1000_partitions_raw_mib')} MiB."]
        for r in e.get("rebalance", []):
            lines.append(f"Pause in consumption while a second member joins ({r['protocol']}, {r['rebalance']}, one "
                         f"run; `--study rebalance` for 5): longest gap {r['longest_gap_ms_join']} ms, against "
                         f"{r['longest_gap_ms_steady']} ms in steady state; longest gap of a moved partition "
                         f"{r['longest_partition_gap_ms']} ms.")
    (RESULTS / "results.md").write_text("\n".join(lines) + "\n")


def fmt_spread(sp, fmt="{:,.0f}"):
    if sp["median"] is None:
        return "-"
    return f"{fmt.format(sp['median'])} ({fmt.format(sp['min'])}-{fmt.format(sp['max'])})"


def throughput_figures(rs, n):
    """Rate, CPU seconds per million messages and peak RSS of runs of n messages, median (min-max)."""
    return dict(msg_per_s=spread([r["msg_per_s"] for r in rs]),
                cpu_s_per_million=spread([r["cpu_s"] / (n / 1e6) for r in rs]),
                peak_rss_mib=spread([r["peak_rss_kb"] / 1024 for r in rs]))


def throughput_cells(sm):
    """The msg/s, CPU s / M msgs and peak RSS MiB cells of a throughput_figures summary."""
    return (f"{fmt_spread(sm['msg_per_s'])} | {fmt_spread(sm['cpu_s_per_million'], '{:.2f}')} | "
            f"{fmt_spread(sm['peak_rss_mib'])}")


def case_rows(summary, key, cells):
    """Markdown rows `| key(K) | CASE | cells(figures) |` of a summary {K: {CASE: figures}}."""
    return [f"| {key(k)} | {case} | {cells(sm)} |" for k, cases in summary.items() for case, sm in cases.items()]


def write_study(name, results, lines):
    """NAME.json (results) and NAME.md (lines) beside the results; prints the markdown."""
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=1))
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print((RESULTS / f"{name}.md").read_text())


def fetch_queue_settings(librdkafka):
    """(label, samsa-bench --set list) of the fetch-queue study for this librdkafka. Every
    value is passed, librdkafka's defaults too: Samsa (and so the raw loop) sets its own
    (add_fetch_queue_defaults in src/settings.cpp), which the study must not measure as
    librdkafka's."""
    if version_tuple(librdkafka) >= (2, 1):
        return [(f"fetch.queue.backoff.ms={ms}{' (librdkafka default)' if ms == 1000 else ''}",
                 [f"kafka.fetch.queue.backoff.ms={ms}"]) for ms in (1000, 100, 20, 5)]
    return [(f"queued.min.messages={n}, queued.max.messages.kbytes={kb}{note}",
             [f"kafka.queued.min.messages={n}", f"kafka.queued.max.messages.kbytes={kb}"])
            for n, kb, note in ((100000, 65536, " (librdkafka defaults)"), (300000, 131072, ""),
                                (1000000, 262144, ""))]


# librdkafka's fetch decisions (kafka.debug=fetch), as its own logger prints them
# ("%7|1796169456.580|FETCH|...") for the raw loop, or as Samsa's logger does
# ("2026-12-02 00:20:31.123 debug [..] librdkafka FETCH: ...").
STALL_RE = re.compile(r"(?:\|(\d+\.\d+)\|FETCH\||^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) .*librdkafka FETCH: )"
                      r".*Topic (\S+) \[(\d+)\] in state \S+ at .* is (fetchable|not fetchable: (.*))$")


def fetch_debug_proof(kafka, topic, n, settings, case="raw", extra=()):
    """A run with kafka.debug=fetch: how often librdkafka stopped fetching a partition for its
    full queue, and for how long (from the 'not fetchable: queued.* exceeded' line to the
    partition's next 'fetchable' line, by the log lines' timestamps). Samsa's logger shows
    librdkafka's debug lines with SAMSA_LOG_LEVEL=debug."""
    cmd = bench_cmd(kafka, case, topic, n, [*settings, "kafka.debug=fetch"], extra=extra)
    with tempfile.TemporaryFile("w+") as err:
        out, cpu, rss, wall = timed(cmd, env=dict(os.environ, SAMSA_LOG_LEVEL="debug"), stderr=err)
        err.seek(0)
        text = err.read().splitlines()
    r = json.loads(out.strip().splitlines()[-2])
    full_since, stalls, reasons = {}, [], {}
    for line in text:
        m = STALL_RE.search(line)
        if not m:
            continue
        if m.group(1):
            ts = float(m.group(1))
        else:
            ts = time.mktime(time.strptime(m.group(2)[:19], "%Y-%m-%d %H:%M:%S")) + float(m.group(2)[19:])
        part, reason = m.group(4), m.group(6)
        if reason:
            reasons[reason] = reasons.get(reason, 0) + 1
            if "exceeded" in reason:
                full_since.setdefault(part, ts)
        elif part in full_since:
            stalls.append((ts - full_since.pop(part)) * 1000)
    backoff_lines = [line for line in text if "Fetch backoff for" in line]
    queue_backoffs = [line for line in backoff_lines if "Queue full" in line]
    return dict(case=case, extra=list(extra), settings=settings, messages=n, msg_per_s=r["msg_per_s"],
                fetch_backoff_lines=len(backoff_lines), queue_full_backoff_lines=len(queue_backoffs),
                not_fetchable=reasons, queue_full_stalls=len(stalls), queue_full_stall_ms=spread(stalls),
                sample=(queue_backoffs or [line for line in text if "exceeded" in line])[:2])


def debug_proofs(kafka, topic, n, settings):
    """kafka.debug=fetch runs under the first and the last setting: the raw loop on the whole
    topic (whether its queue fills depends on the run), and the slow Samsa consumer (5 ms per
    batch), whose queue always fills."""
    proofs = []
    for label, kv in (settings[0], settings[-1]):
        for case, extra, count in (("raw", (), min(n, 2_000_000)),
                                   ("auto-batch", ("--batch-sleep-ms", "5"), min(n, 500_000))):
            proofs.append(dict(label=label, **fetch_debug_proof(kafka, topic, count, kv, case, extra)))
            log(f"debug run {label} {case} {' '.join(extra)}: {proofs[-1]['queue_full_stalls']} queue-full stalls "
                f"of {fmt_spread(proofs[-1]['queue_full_stall_ms'])} ms, {proofs[-1]['queue_full_backoff_lines']} "
                f"'Fetch backoff ... Queue full' lines")
    return proofs


def debug_lines(proofs):
    lines = ["", "kafka.debug=fetch runs (slowed by the logging):", ""]
    for pr in proofs:
        who = "raw loop" if pr["case"] == "raw" else f"Samsa {pr['case']} {' '.join(pr['extra'])}"
        lines.append(f"- {pr['label']}, {who}, {pr['messages']:,} messages ({pr['msg_per_s']:,.0f} msg/s): "
                     f"{pr['queue_full_stalls']} times a partition stopped fetching for a full queue, stopped for "
                     f"{fmt_spread(pr['queue_full_stall_ms'])} ms; {pr['queue_full_backoff_lines']} 'Fetch backoff "
                     f"... Queue full' lines; not-fetchable reasons {pr['not_fetchable']}.")
    return lines


def fetch_queue_debug_study(kafka, args, librdkafka, info):
    """Only the kafka.debug=fetch runs of the fetch-queue study, on a topic of --messages."""
    topic, n = "fq-p8", args.messages
    settings = fetch_queue_settings(librdkafka)
    try:
        log(f"real Kafka at {kafka.start()}")
        kafka.create_topic(topic, 8)
        produce(kafka, topic, n, 100)
        proofs = debug_proofs(kafka, topic, n, settings)
    finally:
        kafka.stop()
    results = dict(machine=info, topic=dict(name=topic, partitions=8, messages=n, message_bytes=100),
                   debug_runs=proofs)
    (RESULTS / "fetch-queue-debug.json").write_text(json.dumps(results, indent=1))
    (RESULTS / "fetch-queue-debug.md").write_text("\n".join([header(results, f"Topic {topic}: {n:,} x 100 B over 8 "
                                                                                f"partitions.")] + debug_lines(proofs))
                                                 + "\n")
    print((RESULTS / "fetch-queue-debug.md").read_text())


def fetch_queue_study(kafka, args, librdkafka, info):
    """Raw and auto-batch on a backlog of 8 partitions under each fetch-queue setting, reps
    alternating (setting by setting, raw then auto-batch); then a kafka.debug=fetch run under the
    default and the last setting to count the stalls librdkafka logs."""
    topic, n, size = "fq-p8", args.messages, 100
    settings = fetch_queue_settings(librdkafka)
    runs = {label: {"raw": [], "auto-batch": []} for label, _ in settings}
    slow = {label: [] for label, _ in settings}
    try:
        log(f"real Kafka at {kafka.start()}")
        kafka.create_topic(topic, 8)
        log(f"preloading {topic}: {n} x {size} B over 8 partitions")
        produce(kafka, topic, n, size)
        for rep in range(args.reps):
            for label, kv in settings:
                for case in ("raw", "auto-batch"):
                    r = run_case(kafka, case, topic, n, size, kv)
                    runs[label][case].append(r)
                    log(f"rep {rep + 1} {label}: {case:10} {r['msg_per_s']:>10,.0f} msg/s  cpu {r['cpu_s']:.2f} s  "
                        f"rss {r['peak_rss_kb'] / 1024:.0f} MiB  longest gap {r['max_gap_ms']:.0f} ms  "
                        f"idle {r['idle_s']:.2f} s")
        # A slow consumer (5 ms per batch of up to 1,000): the queue stays full, and the CPU the
        # process burns is librdkafka's fetch decisions and wake-ups (the cost of a short backoff).
        for rep in range(min(args.reps, 3)):
            for label, kv in settings:
                r = run_case(kafka, "auto-batch", topic, 1_000_000, size, kv, ["--batch-sleep-ms", "5"])
                slow[label].append(r)
                log(f"slow consumer rep {rep + 1} {label}: {r['msg_per_s']:>10,.0f} msg/s  cpu {r['cpu_s']:.2f} s "
                    f"in {r['seconds']:.1f} s  rss {r['peak_rss_kb'] / 1024:.0f} MiB")
        proofs = debug_proofs(kafka, topic, n, settings)
    finally:
        kafka.stop()
    summary = {}
    for label, cases in runs.items():
        summary[label] = {c: throughput_figures(rs, n) | dict(max_gap_ms=spread([r["max_gap_ms"] for r in rs]),
                                  idle_s=spread([r["idle_s"] for r in rs])) for c, rs in cases.items()}
    results = dict(machine=info, reps=args.reps, topic=dict(name=topic, partitions=8, messages=n, message_bytes=size),
                   summary=summary, runs=runs, debug_runs=proofs, slow_consumer=slow)
    (RESULTS / "fetch-queue.json").write_text(json.dumps(results, indent=1))
    lines = [header(results, f"Topic {topic}: {n:,} x {size} B over 8 partitions, consumed whole; median (min-max) "
                             f"of {args.reps} alternating runs. Idle = the sum of the gaps of at least 10 ms "
                             f"between two deliveries."), "",
             "| setting | case | msg/s | CPU s / M msgs | peak RSS MiB | longest gap ms | idle s |",
             "|---|---|---:|---:|---:|---:|---:|"]
    lines += case_rows(summary, str, lambda sm: f"{throughput_cells(sm)} | {fmt_spread(sm['max_gap_ms'])} | "
                                                f"{fmt_spread(sm['idle_s'], '{:.2f}')}")
    lines += ["", "A slow consumer (auto-batch, 5 ms sleep per batch of up to 1,000, 1,000,000 messages): the "
                  "process's CPU seconds (join included) per second of consumption, median (min-max):", "",
              "| setting | msg/s | CPU s per s | peak RSS MiB |", "|---|---:|---:|---:|"]
    for label, rs in slow.items():
        lines.append(f"| {label} | {fmt_spread(spread([r['msg_per_s'] for r in rs]))} | "
                     f"{fmt_spread(spread([r['cpu_s'] / r['seconds'] for r in rs if r['seconds']]), '{:.3f}')} | "
                     f"{fmt_spread(spread([r['peak_rss_kb'] / 1024 for r in rs]))} |")
    lines += debug_lines(proofs)
    (RESULTS / "fetch-queue.md").write_text("\n".join(lines) + "\n")
    print((RESULTS / "fetch-queue.md").read_text())


def rebalance_study(kafka, args, librdkafka, info):
    """rebalance_pause --reps times per group protocol this librdkafka and Kafka can run,
    protocols alternating."""
    configs = rebalance_configs(librdkafka, args.kafka_version)
    runs = {f"{p}/{r}": [] for p, r in configs}
    try:
        log(f"real Kafka at {kafka.start()}")
        for rep in range(args.reps):
            for p, r in configs:
                res = rebalance_pause(kafka, p, r, tag=str(rep), mode=args.consumer_mode)
                runs[f"{p}/{r}"].append(res)
                log(f"rep {rep + 1} {p}/{r}: longest gap {res['longest_gap_ms_join']} ms during the join, "
                    f"{res['longest_gap_ms_steady']} ms before; moved partition {res['longest_partition_gap_ms']} ms "
                    f"({res['partitions_moved']} moved); B assigned after {res['b_assigned_after_ms']} ms")
    finally:
        kafka.stop()
    keys = ("longest_gap_ms_join", "longest_gap_ms_steady", "longest_partition_gap_ms",
            "longest_partition_gap_ms_steady", "b_assigned_after_ms", "b_first_batch_after_assigned_ms")
    summary = {c: {k: spread([r[k] for r in rs]) for k in keys} for c, rs in runs.items()}
    results = dict(machine=info, reps=args.reps, summary=summary, runs=runs)
    name = "rebalance" if args.consumer_mode == "sync-each-batch" else f"rebalance-{args.consumer_mode}"
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=1))
    lines = [header(results, f"A second member joins a group of one that consumes a steady 5,000 msg/s over 8 "
                             f"partitions; members in samsa-bench mode {args.consumer_mode}; gaps between "
                             f"records_consumed lines of both members, median (min-max) of {args.reps} runs."), "",
             "| group protocol | longest gap during the join, ms | longest gap in the 5 s before, ms | "
             "longest gap of a moved partition, ms | the same for any partition in the 5 s before, ms | "
             "B's first assignment after its start, ms | B's first batch after its assignment, ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for c, sm in summary.items():
        lines.append(f"| {c} | {fmt_spread(sm['longest_gap_ms_join'])} | {fmt_spread(sm['longest_gap_ms_steady'])} | "
                     f"{fmt_spread(sm['longest_partition_gap_ms'])} | "
                     f"{fmt_spread(sm['longest_partition_gap_ms_steady'])} | {fmt_spread(sm['b_assigned_after_ms'])} | "
                     f"{fmt_spread(sm['b_first_batch_after_assigned_ms'])} |")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print((RESULTS / f"{name}.md").read_text())


def io_bound_study(kafka, args, info):
    """IO-bound scaling: samsa-bench --mode io-bound (consume() sleeps 1 ms per message,
    automatic marking, Samsa's default settings but concurrency) on a backlog of 16
    partitions, at each concurrency, concurrencies alternating within each rep. A run
    consumes --io-messages-per-worker x min(C, 16) messages (about the same duration at every
    C if the partitions run in parallel), or stops after --io-max-seconds. The ratio is the
    median rate at C over min(C, 16) x the median rate at concurrency 1 (the target: >= 0.9)."""
    topic, parts, size = "io-p16", 16, 100
    backlog = parts * args.io_backlog
    concurrencies = [int(c) for c in args.concurrencies.split(",")]
    runs = {c: [] for c in concurrencies}
    try:
        log(f"real Kafka at {kafka.start()}")
        kafka.create_topic(topic, parts)
        log(f"preloading {topic}: {backlog:,} x {size} B over {parts} partitions")
        produce(kafka, topic, backlog, size)
        for rep in range(args.reps):
            for c in concurrencies:
                n = min(backlog, args.io_messages_per_worker * min(c, parts))
                r = run_case(kafka, "io-bound", topic, n, size, args.set, ["--max-seconds", str(args.io_max_seconds)],
                             concurrency=c)
                runs[c].append(r)
                log(f"rep {rep + 1} concurrency {c:2}: {r['msg_per_s']:>8,.0f} msg/s  {r['messages']:,} messages in "
                    f"{r['seconds']:.1f} s  cpu {r['cpu_s']:.2f} s  longest gap {r['max_gap_ms']:.0f} ms")
    finally:
        kafka.stop()
    base = statistics.median(r["msg_per_s"] for r in runs[concurrencies[0]]) if concurrencies[0] == 1 else None
    summary = {}
    for c, rs in runs.items():
        rate = spread([r["msg_per_s"] for r in rs])
        ideal = base * min(c, parts) if base else None
        summary[c] = dict(msg_per_s=rate, ideal_msg_per_s=ideal,
                          ratio_to_ideal=rate["median"] / ideal if ideal else None,
                          seconds=spread([r["seconds"] for r in rs]), messages=spread([r["messages"] for r in rs]),
                          cpu_s=spread([r["cpu_s"] for r in rs]), settings=rs[0]["settings"])
    results = dict(machine=info, reps=args.reps, topic=dict(name=topic, partitions=parts, messages=backlog,
                                                            message_bytes=size),
                   messages_per_worker=args.io_messages_per_worker, max_seconds=args.io_max_seconds,
                   summary=summary, runs=runs)
    (RESULTS / "io-bound.json").write_text(json.dumps(results, indent=1))
    lines = [header(results, f"Topic {topic}: {backlog:,} x {size} B over {parts} partitions; samsa-bench --mode "
                             f"io-bound (consume() sleeps 1 ms per message, std::this_thread::sleep_for); a run "
                             f"consumes {args.io_messages_per_worker:,} x min(C, {parts}) messages from the start "
                             f"(a fresh group), or stops after {args.io_max_seconds:g} s; median (min-max) of "
                             f"{args.reps} runs, concurrencies alternating. Ideal = min(C, {parts}) x the median "
                             f"rate at concurrency 1; the target ratio is >= 0.9."), "",
             "| concurrency | msg/s | ideal msg/s | ratio to ideal | run s | messages | CPU s |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for c, sm in summary.items():
        ratio = f"{sm['ratio_to_ideal']:.2f}" if sm["ratio_to_ideal"] is not None else "-"
        ideal = f"{sm['ideal_msg_per_s']:,.0f}" if sm["ideal_msg_per_s"] is not None else "-"
        lines.append(f"| {c} | {fmt_spread(sm['msg_per_s'])} | {ideal} | {ratio} | "
                     f"{fmt_spread(sm['seconds'], '{:.1f}')} | {fmt_spread(sm['messages'])} | "
                     f"{fmt_spread(sm['cpu_s'], '{:.2f}')} |")
    lines += ["", "Settings of each case (as samsa-bench reported them; the rest are Samsa's defaults):", ""]
    lines += [f"- concurrency {c}: {json.dumps(sm['settings'])}" for c, sm in summary.items()]
    (RESULTS / "io-bound.md").write_text("\n".join(lines) + "\n")
    print((RESULTS / "io-bound.md").read_text())


def settings_lines(settings_by_case):
    """The markdown list of the settings each case ran with, as samsa-bench reported them."""
    return ["", "Settings of each case (as samsa-bench reported them: the raw loop's --set properties, Samsa's "
                "effective settings; samsa-bench sets client_id and, in the throughput modes but auto-batch-defaults, "
                "max_messages 1000 and concurrency 1; "
                "the rest are Samsa's and librdkafka's defaults):", ""] + \
        [f"- {c}: {json.dumps(st)}" for c, st in settings_by_case.items()]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The efficiency study's cases: (samsa-bench mode, its options). "defaults" cases run with
# every Samsa default (samsa-bench --defaults); "bench" is the bench's settings (concurrency 1,
# max_messages 1000).
EFFICIENCY_CASES = ["raw-batch", "defaults", "defaults-metrics", "manual-defaults", "manual-defaults-metrics", "bench"]
EFFICIENCY_PEERS = ["franz", "java", "python"]  # run_case's peers, with --eff-cases


def efficiency_cmd(kafka, case, topic, n, settings):
    if case in ("raw-batch", "raw-handoff"):
        return bench_cmd(kafka, case, topic, n, settings)
    if case == "bench":
        return bench_cmd(kafka, "auto-batch", topic, n, settings)
    mode = "manual-each" if case.startswith("manual") else "auto-batch"
    extra = ["--defaults"]
    sets = list(settings)
    if case.endswith("-metrics"):
        # The HTTP endpoint and its Prometheus exporter: an asynchronous subscriber of every event.
        sets += [f"metrics_port={free_port()}", "metrics_host=127.0.0.1"]
    return bench_cmd(kafka, mode, topic, n, sets, None, extra)


def efficiency_study(kafka, args, info):
    """Samsa's defaults against the fastest raw loop (raw-batch, the same librdkafka and fetch
    settings), on each --eff-topics backlog: per case, CPU seconds per million messages (the
    whole process, GNU time), msg/s (from the first assignment) and peak RSS, median (min-max)
    of --reps runs. Each rep runs every case once on each topic, the cases' order rotated from
    rep to rep; the ratio of a case is its CPU per message over raw-batch's in the same rep,
    whose median is reported beside the ratio of the medians."""
    size = 100
    topics = {}
    for spec in args.eff_topics.split(","):
        parts, n = (int(x) for x in spec.split(":"))
        topics[f"eff-p{parts}-{n}"] = (parts, n)
    cases = args.eff_cases.split(",")
    if cases[0] != "raw-batch":
        sys.exit("run.py: the efficiency study's first case must be raw-batch (the ratios' base)")
    runs = {t: {c: [] for c in cases} for t in topics}
    try:
        log(f"real Kafka at {kafka.start()}")
        for topic, (parts, n) in topics.items():
            kafka.create_topic(topic, parts)
            log(f"preloading {topic}: {n:,} x {size} B over {parts} partitions")
            produce(kafka, topic, n, size)
        first = next(iter(topics))
        run_case(kafka, "raw-batch", first, 1000, size, args.set)  # the coordinator's first use, not counted
        for rep in range(args.reps):
            for topic, (parts, n) in topics.items():
                order = cases[rep % len(cases):] + cases[:rep % len(cases)]
                for case in order:
                    if case in EFFICIENCY_PEERS:
                        r = run_case(kafka, case, topic, n, size)
                    else:
                        r = bench_result(timed(efficiency_cmd(kafka, case, topic, n, args.set)))
                    runs[topic][case].append(r)
                    log(f"rep {rep + 1} {topic:20} {case:24} {r['msg_per_s']:>10,.0f} msg/s  cpu "
                        f"{r['cpu_s'] / (n / 1e6):.2f} s/M  rss {r['peak_rss_kb'] / 1024:.0f} MiB")
    finally:
        kafka.stop()
    summary, ratios = {}, {}
    for topic, cs in runs.items():
        n = topics[topic][1]
        sums = {r["checksum"] for rs in cs.values() for r in rs if "checksum" in r}
        if len(sums) > 1:
            log(f"{topic}: WARNING: the cases read different payloads (checksums {sorted(sums)})")
        summary[topic] = {c: throughput_figures(rs, n) for c, rs in cs.items()}
        raw = cs["raw-batch"]
        ratios[topic] = {c: dict(paired=spread([r["cpu_s"] / b["cpu_s"] for r, b in zip(rs, raw)]),
                                 of_medians=summary[topic][c]["cpu_s_per_million"]["median"] /
                                 summary[topic]["raw-batch"]["cpu_s_per_million"]["median"],
                                 rate=summary[topic][c]["msg_per_s"]["median"] /
                                 summary[topic]["raw-batch"]["msg_per_s"]["median"],
                                 rss_over_raw_mib=summary[topic][c]["peak_rss_mib"]["median"] -
                                 summary[topic]["raw-batch"]["peak_rss_mib"]["median"])
                         for c, rs in cs.items() if c != "raw-batch"}
    results = dict(machine=info, reps=args.reps, message_bytes=size, topics=topics, summary=summary, ratios=ratios,
                   runs=runs)
    lines = [header(results, f"Each topic's backlog ({size} B messages) consumed whole by each case with a fresh "
                             f"group; median (min-max) of {args.reps} runs, cases alternating. CPU = the whole "
                             f"process's (GNU time, the group join included) per million messages; rate from the "
                             f"first assignment."), "",
             "| topic | case | msg/s | CPU s / M msgs | peak RSS MiB | CPU vs raw-batch (paired median, min-max) "
             "| rate vs raw-batch | RSS - raw-batch MiB |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for topic, cs in summary.items():
        for c, sm in cs.items():
            rt = ratios[topic].get(c)
            extra = (f"{fmt_spread(rt['paired'], '{:.2f}')} | {rt['rate']:.2f} | {rt['rss_over_raw_mib']:+.0f}"
                     if rt else "1 | 1 | 0")
            lines.append(f"| {topic} | {c} | {throughput_cells(sm)} | {extra} |")
    lines += settings_lines({c: runs[first][c][0]["settings"] for c in cases if "settings" in runs[first][c][0]})
    write_study("efficiency", results, lines)


def partitions_study(kafka, args, info):
    """The same backlog (--part-messages x 100 B) on a topic of each --partition-counts, consumed
    whole by raw-batch and auto-batch, alternating (topic by topic, raw-batch first). Per case:
    rate (from the first assignment), CPU seconds of the whole process per million messages,
    peak RSS (GNU time), and the seconds from the process's start to its first assignment and
    to its first message. The ratios: CPU per message on the last count over the first (the
    target for Samsa: <= 1.2), and Samsa's peak RSS over raw-batch's on each topic (<= 2)."""
    n, size = args.part_messages, 100
    counts = [int(c) for c in args.partition_counts.split(",")]
    cases = ("raw-batch", "auto-batch")
    topics = {c: f"parts-p{c}" for c in counts}
    runs = {c: {case: [] for case in cases} for c in counts}
    try:
        log(f"real Kafka at {kafka.start()}")
        for c, topic in topics.items():
            kafka.create_topic(topic, c)
            log(f"preloading {topic}: {n:,} x {size} B over {c} partitions")
            produce(kafka, topic, n, size)
        # Not counted: the group coordinator's first use (__consumer_offsets created) took
        # about a second off the first run's time to its assignment.
        run_case(kafka, cases[0], topics[counts[0]], min(n, 1000), size, args.set)
        for rep in range(args.reps):
            for c, topic in topics.items():
                for case in cases:
                    r = run_case(kafka, case, topic, n, size, args.set)
                    runs[c][case].append(r)
                    log(f"rep {rep + 1} {c:5} partitions: {case:10} {r['msg_per_s']:>10,.0f} msg/s  cpu "
                        f"{r['cpu_s'] / (n / 1e6):.2f} s/M  rss {r['peak_rss_kb'] / 1024:.0f} MiB  first message "
                        f"{r['first_message_s']:.2f} s (assigned {r['assigned_s']:.2f} s)")
    finally:
        kafka.stop()
    for c, cs in runs.items():
        sums = {r["checksum"] for rs in cs.values() for r in rs}
        if len(sums) > 1:
            log(f"{topics[c]}: WARNING: the cases read different payloads (checksums {sorted(sums)})")
    summary = {c: {case: throughput_figures(rs, n) | dict(assigned_s=spread([r["assigned_s"] for r in rs]),
                              first_message_s=spread([r["first_message_s"] for r in rs]))
                   for case, rs in cs.items()} for c, cs in runs.items()}
    lo, hi = counts[0], counts[-1]
    cpu_ratio = {case: summary[hi][case]["cpu_s_per_million"]["median"] /
                 summary[lo][case]["cpu_s_per_million"]["median"] for case in cases}
    rss_ratio = {c: summary[c]["auto-batch"]["peak_rss_mib"]["median"] /
                 summary[c]["raw-batch"]["peak_rss_mib"]["median"] for c in counts}
    results = dict(machine=info, reps=args.reps, messages=n, message_bytes=size, topics=topics, summary=summary,
                   cpu_per_message_ratio=cpu_ratio, rss_ratio_samsa_to_raw_batch=rss_ratio, runs=runs)
    lines = [header(results, f"The same backlog, {n:,} x {size} B, over {' and over '.join(map(str, counts))} "
                             f"partitions, consumed whole with a fresh group; median (min-max) of {args.reps} "
                             f"alternating runs. CPU = the whole process's (GNU time, join included) per million "
                             f"messages; rate from the first assignment; first assignment and first message in "
                             f"seconds from the process's start."), "",
             "| partitions | case | msg/s | CPU s / M msgs | peak RSS MiB | first assignment s | first message s |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    lines += case_rows(summary, "{:,}".format, lambda sm: f"{throughput_cells(sm)} | "
                                                          f"{fmt_spread(sm['assigned_s'], '{:.2f}')} | "
                                                          f"{fmt_spread(sm['first_message_s'], '{:.2f}')}")
    lines += ["", f"CPU per message, {hi:,} over {lo:,} partitions (target for Samsa: <= 1.2): " +
              ", ".join(f"{case} {v:.2f}" for case, v in cpu_ratio.items()) + ".",
              "Samsa's peak RSS over raw-batch's (target: <= 2): " +
              ", ".join(f"{c:,} partitions {v:.2f}" for c, v in rss_ratio.items()) + "."]
    lines += settings_lines({case: runs[lo][case][0]["settings"] for case in cases})
    write_study("partitions", results, lines)


def latency_run(kafka, case, topic, rate, seconds, settings):
    """One latency run: `case` (a samsa-bench mode, --latency) joins a fresh group on the empty
    `topic`; 2 s after its first assignment samsa-bench-producer produces rate x seconds
    messages of 100 B at that steady rate; the consumer stops at the last one."""
    n = int(rate * seconds)
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "ready"
        consumer = Timed(bench_cmd(kafka, case, topic, n, settings, extra=["--latency", "--ready-file", str(ready)]))
        try:
            deadline = time.time() + 120
            while not ready.exists():
                if consumer.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"{case} never got its assignment")
                time.sleep(0.05)
            time.sleep(2)  # its first fetches answered (empty): caught up
            prod = subprocess.run([str(BIN / "samsa-bench-producer"), "--brokers", kafka.bootstrap, "--topic", topic,
                                   "--rate", str(rate), "--seconds", str(seconds), "--bytes", "100"], check=True,
                                  text=True, stdout=subprocess.PIPE, timeout=seconds + 120).stdout
        except BaseException:
            consumer.proc.kill()
            raise
        r = bench_result(consumer.finish(timeout=120))
    r["producer"] = json.loads(prod.strip().splitlines()[-1])
    return r


def latency_study(kafka, args, info):
    """Latency while caught up: latency_run per case, --reps times, cases alternating, each run
    on a new topic of --latency-partitions, after a warm-up run. The latency of a message is the wall clock when the
    consumer code gets it minus its CreateTime (librdkafka's, at the producer's call; whole ms,
    so up to 1 ms above the true figure, the same for every case)."""
    cases = args.latency_cases.split(",")
    runs = {case: [] for case in cases}
    try:
        log(f"real Kafka at {kafka.start()}")
        # A warm-up run, not counted: the first produce-consume after the broker's start ran
        # at hundreds of ms of latency, the producer's acks too (the broker warming up).
        kafka.create_topic("lat-warm-up", args.latency_partitions)
        latency_run(kafka, cases[0], "lat-warm-up", args.latency_rate, min(5, args.latency_seconds), args.set)
        for rep in range(args.reps):
            for case in cases:
                topic = f"lat-{case}-{rep}-{uuid.uuid4().hex[:6]}"
                kafka.create_topic(topic, args.latency_partitions)
                r = latency_run(kafka, case, topic, args.latency_rate, args.latency_seconds, args.set)
                runs[case].append(r)
                lat, pr = r["latency_ms"], r["producer"]
                log(f"rep {rep + 1} {case:12} latency p50 {lat['p50']:.2f} ms  p99 {lat['p99']:.2f} ms  max "
                    f"{lat['max']:.2f} ms over {lat['count']:,}; producer {pr['msg_per_s']:,.0f} msg/s, at most "
                    f"{pr['max_late_ms']:.1f} ms late, its acks p50 {pr['acked_ms']['p50']:.2f} ms p99 "
                    f"{pr['acked_ms']['p99']:.2f} ms; consumer cpu {r['cpu_s']:.2f} s")
    finally:
        kafka.stop()
    keys = ("p50", "p99", "max")
    summary = {case: {k: spread([r["latency_ms"][k] for r in rs]) for k in keys} |
               {f"acked_{k}": spread([r["producer"]["acked_ms"][k] for r in rs]) for k in keys} |
               dict(cpu_s=spread([r["cpu_s"] for r in rs]),
                    producer_max_late_ms=spread([r["producer"]["max_late_ms"] for r in rs]))
               for case, rs in runs.items()}
    base = "raw-batch" if "raw-batch" in summary else None
    for case, sm in summary.items():
        sm["p99_minus_raw_batch_ms"] = sm["p99"]["median"] - summary[base]["p99"]["median"] if base else None
        sm["p99_minus_acked_p99_ms"] = spread([r["latency_ms"]["p99"] - r["producer"]["acked_ms"]["p99"]
                                               for r in runs[case]])
    results = dict(machine=info, reps=args.reps, rate=args.latency_rate, seconds=args.latency_seconds,
                   partitions=args.latency_partitions, message_bytes=100, summary=summary, runs=runs)
    lines = [header(results, f"samsa-bench-producer (librdkafka, linger.ms 0) at a steady "
                             f"{args.latency_rate:,.0f} msg/s of 100 B for {args.latency_seconds:g} s into a new "
                             f"topic of {args.latency_partitions} partitions, while the consumer, started first on "
                             f"the empty topic, is caught up. Latency = the wall clock when the consumer code gets "
                             f"a message minus its CreateTime (whole ms: up to 1 ms above the true figure in every "
                             f"case); median (min-max) over {args.reps} runs, cases alternating. Target: Samsa's "
                             f"p99 within 1 ms of raw-batch's. The producer's acks (delivery report time minus "
                             f"CreateTime, acks=all) of the same run are the broker's share: a consumer cannot "
                             f"do much better than them."), "",
             "| case | p50 ms | p99 ms | max ms | p99 - raw-batch p99, ms | producer acks p50 / p99 / max, ms | "
             "p99 - acks p99 (same run), ms | consumer CPU s | producer at most late, ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for case, sm in summary.items():
        diff = f"{sm['p99_minus_raw_batch_ms']:+.2f}" if sm["p99_minus_raw_batch_ms"] is not None else "-"
        lines.append(f"| {case} | {fmt_spread(sm['p50'], '{:.2f}')} | {fmt_spread(sm['p99'], '{:.2f}')} | "
                     f"{fmt_spread(sm['max'], '{:.1f}')} | {diff} | {sm['acked_p50']['median']:.2f} / "
                     f"{sm['acked_p99']['median']:.2f} / {sm['acked_max']['median']:.1f} | "
                     f"{fmt_spread(sm['p99_minus_acked_p99_ms'], '{:+.2f}')} | "
                     f"{fmt_spread(sm['cpu_s'], '{:.2f}')} | "
                     f"{fmt_spread(sm['producer_max_late_ms'], '{:.1f}')} |")
    lines += settings_lines({case: rs[0]["settings"] for case, rs in runs.items()})
    write_study("latency", results, lines)


if __name__ == "__main__":
    main()
