#!/usr/bin/env python3
"""The delivery-guarantee torture test: buffered_import on real Apache Kafka under chaos.

With --exactly-once the members are exactly_once_import instead (offsets in the database's
own transaction): then not one event may be in the database twice, SIGKILLs or not. With
--transactional they are transactional_copy (Kafka transactions), copying the events to
user_events_copy: then a read_committed reader of that topic (tests/tools/topic_reader.cpp)
must see every event exactly once, SIGKILLs, broker crash and rebalances or not.

Produces numbered events to real Kafka and runs 1 to 3 buffered_import processes in one
consumer group while a driver, at random moments, kills a member with SIGKILL, stops one
with SIGTERM, starts new ones (rebalances), and kills a broker with SIGKILL and restarts
it. At the end it stops everything gracefully and checks:

  - nothing lost: every event id is in the database;
  - duplicates only in the window of a SIGKILL: a duplicated id's first copy was imported
    before a member's SIGKILL and its second copy after it (for a broker's SIGKILL, before
    the group recovered from it); a run with only graceful stops (--graceful-only) has none;
  - the group's committed offsets, read with Kafka's own ConsumerGroupCommand, equal the
    log-end offsets;
  - with --poison-share, poison events (chosen by the seed) go to the dead-letter topic:
    every id is either in the database or in the dead-letter topic, never both; the poison
    ids are exactly those in the dead-letter topic, each once in a run with graceful stops
    only and otherwise more than once only across a SIGKILL; each dead letter's
    original_partition/original_offset headers point at that poison event in the source
    topic (read back with Kafka's own ConsoleConsumer);
  - the invariants of Kafka's system tests (commits only for owned partitions and never
    ahead of the consumed position, no gaps or rewinds inside an assignment, no duplicates
    after clean bounces, and each revocation preceded by the commit of the revoked
    partitions' consumed position, reported once), from verifiable_consumer's JSON lines in
    a final phase, with one member committing synchronously and one with
    --enable-autocommit (--verifiable-only runs this phase alone).

The random seed is printed; pass it back with --seed to replay the same schedule.
Only the standard library: it runs wherever `make test` runs.
"""
import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPY_TOPIC = "user_events_copy"  # where --transactional's members copy the events


def log(msg):
    print(f"[torture {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Kafka:
    """scripts/kafka-local with a state directory of the torture test's own."""

    def __init__(self, state_dir, nodes):
        self.env = dict(os.environ, SAMSA_KAFKA_DIR=str(state_dir))
        self.nodes = nodes
        self.script = str(ROOT / "scripts" / "kafka-local")
        self.bootstrap = None

    def run(self, *args, check=True, capture=True):
        return subprocess.run([self.script, *args], env=self.env, check=check, text=True,
                              stdout=subprocess.PIPE if capture else None)

    def start(self):
        out = self.run("start", "--nodes", str(self.nodes)).stdout.strip().splitlines()
        if not out or not out[-1].startswith("bootstrap: "):
            raise SystemExit(f"real Kafka did not start: {out}")
        self.bootstrap = out[-1][len("bootstrap: "):]
        return self.bootstrap

    def stop(self):
        self.run("stop", check=False)

    def kill(self, node):
        self.run("kill", str(node))

    def restart(self, node):
        self.run("restart-node", str(node))

    def tool(self, cls, *args):
        return self.run("tool", cls, *args).stdout

    def create_topic(self, topic, partitions):
        self.tool("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", self.bootstrap,
                  "--create", "--topic", topic, "--partitions", str(partitions),
                  "--replication-factor", str(self.nodes))

    def read_topic(self, topic, max_messages=None):
        """Every record of `topic` (parse_console_records), with Kafka's own ConsoleConsumer:
        up to max_messages, or until none came for 10 s."""
        limit = ["--max-messages", str(max_messages)] if max_messages else []
        props = []
        for p in ("print.timestamp", "print.partition", "print.offset", "print.headers", "print.key"):
            props += ["--property", f"{p}=true"]
        # It ends with a TimeoutException (and a non-zero exit) once nothing came for 10 s:
        # its stderr is shown only when it read nothing.
        done = subprocess.run([self.script, "tool", "org.apache.kafka.tools.consumer.ConsoleConsumer",
                               "--bootstrap-server", self.bootstrap, "--topic", topic, "--from-beginning",
                               "--timeout-ms", "10000", *limit, *props, "--property", "headers.separator=|"],
                              env=self.env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        records = parse_console_records(done.stdout)
        if not records:
            log(f"ConsoleConsumer read nothing from {topic} (exit {done.returncode}): {done.stderr.strip()}")
        return records

    def describe_group(self, group):
        """(topic, partition) -> (committed or None, log end), from ConsumerGroupCommand."""
        out = self.tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                        "--bootstrap-server", self.bootstrap, "--describe", "--group", group)
        rows = {}
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 6 and f[0] == group and f[2].isdigit():
                committed = None if f[3] == "-" else int(f[3])
                rows[(f[1], int(f[2]))] = (committed, int(f[4]))
        return rows


class Member:
    """One buffered_import (or, with --exactly-once, exactly_once_import) process."""

    count = 0

    def __init__(self, bin_dir, brokers, db, log_dir, args, slot=0):
        Member.count += 1
        self.name = f"m{Member.count}"
        self.slot = slot
        self.log_path = log_dir / f"{self.name}.log"
        if args.transactional:
            # Its transactional.id prefix is its slot's (at most 3 members run at once): a
            # member started after a SIGKILL takes the dead one's, and its producers'
            # initialisation ends what the dead one left open.
            self.cmd = [str(bin_dir / "transactional_copy"), "server", "--brokers", brokers,
                        "--from", "user_events", "--to", COPY_TOPIC, "--transactional-id", f"torture-{slot}"]
        elif args.exactly_once:
            self.cmd = [str(bin_dir / "exactly_once_import"), "server", "--brokers", brokers, "--db", str(db)]
        else:
            self.cmd = [str(bin_dir / "buffered_import"), "server", "--brokers", brokers, "--db", str(db),
                        "--flush-size", str(args.flush_size), "--flush-interval", "1000"]
        self.cmd += ["--set", f"kafka.auto.commit.interval.ms={args.commit_interval_ms}",
                    "--set", "shutdown_timeout=30s", "--set", f"rebalance_protocol={args.rebalance_protocol}",
                    "--set", f"group_protocol={args.group_protocol}"]
        if args.poison_share > 0:
            # A poison event is retried max_retries times, each after a short back-off, then
            # dead-lettered: a few hundred milliseconds per poison event.
            self.cmd += ["--dead-letter-topic", args.dead_letter_topic, "--max-retries", str(args.max_retries),
                         "--set", "pause_timeout=100ms", "--set", "pause_max_timeout=400ms"]
        if args.group_protocol == "classic":
            # Under KIP-848 the broker owns these (kafka-local sets short ones on Kafka 4).
            self.cmd += ["--set", "kafka.session.timeout.ms=6000", "--set", "kafka.heartbeat.interval.ms=1000"]
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log_file, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term(self, timeout=60):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "timeout"


class Database:
    def __init__(self, path):
        self.path = path

    def query(self, sql):
        for _ in range(50):
            try:
                con = sqlite3.connect(self.path, timeout=30)
                try:
                    return con.execute(sql).fetchall()
                finally:
                    con.close()
            except sqlite3.OperationalError as e:  # table not created yet, or busy
                last = e
                time.sleep(0.2)
        raise last

    def max_rowid(self):
        try:
            return self.query("SELECT COALESCE(MAX(rowid), 0) FROM events")[0][0]
        except sqlite3.OperationalError:
            return 0

    def distinct(self):
        try:
            return self.query("SELECT COUNT(DISTINCT id) FROM events")[0][0]
        except sqlite3.OperationalError:
            return 0


class NoDatabase(Database):
    """--transactional's stand-in: no table to count (each query of a missing table would
    retry for 10 s); the copies are counted in the output topic at the end."""

    def max_rowid(self):
        return 0

    def distinct(self):
        return 0


def read_copies(bin_dir, brokers):
    """What a read_committed reader of COPY_TOPIC sees: [{id, source_partition, source_offset}]."""
    out = subprocess.run([str(bin_dir / "samsa_topic_reader"), "--brokers", brokers, "--topic", COPY_TOPIC,
                          "--isolation", "read_committed", "--timeout-ms", "120000"],
                         capture_output=True, text=True, check=True).stdout
    copies = []
    for line in out.splitlines():
        m = json.loads(line)
        h = m["headers"]
        copies.append({"id": json.loads(m["value"])["id"], "source_partition": int(h["source_partition"]),
                       "source_offset": int(h["source_offset"])})
    return copies


def produce(bin_dir, brokers, topic, first, count, poison=frozenset()):
    """Events first .. first+count-1; the ids in `poison` as {"id":N,"poison":true} (same key
    and partition as the others), in id order."""
    def run(start, n, *extra):
        if n > 0:
            subprocess.run([str(bin_dir / "samsa"), "produce", "--brokers", brokers, "--topic", topic,
                            "--count", str(n), "--first", str(start), "--timeout", "300", *extra],
                           check=True, stdout=subprocess.DEVNULL)
    start = first
    for id_ in sorted(i for i in poison if first <= i < first + count):
        run(start, id_ - start)
        run(id_, 1, "--payload", json.dumps({"id": id_, "poison": True}, separators=(",", ":")))
        start = id_ + 1
    run(start, first + count - start)


def parse_console_records(text):
    """The lines of Kafka's ConsoleConsumer run with print.timestamp, print.partition,
    print.offset, print.headers (headers.separator '|'), print.key: one dict per record."""
    records = []
    for line in text.splitlines():
        f = line.split("\t")
        if len(f) != 6 or not f[0].startswith("CreateTime:"):
            continue
        headers = {}
        if f[3] != "NO_HEADERS":
            for h in f[3].split("|"):
                k, _, v = h.partition(":")
                headers[k] = v
        records.append(dict(timestamp=int(f[0].split(":", 1)[1]), partition=int(f[1].split(":", 1)[1]),
                            offset=int(f[2].split(":", 1)[1]), headers=headers, key=f[4], value=f[5]))
    return records


def check_dead_letters(events, poison, db_ids, dlq, source, windows, graceful_only, topic, group, max_retries):
    """Checks the dead-letter topic against the database and the source topic.

    events: ids 0 .. events-1 were produced; poison: the poison ids; db_ids: the ids in the
    database; dlq: the dead-letter records (parse_console_records); source: (partition,
    offset) -> value of the source topic; windows: (start, end, label) per SIGKILL (or
    unconfirmed graceful stop), in ms since the epoch, a dead letter produced twice must
    straddle one. Returns (problems, figures)."""
    problems = []
    copies = {}  # id -> [record, ...]
    for r in dlq:
        try:
            id_ = json.loads(r["value"])["id"]
        except (ValueError, KeyError, TypeError):
            problems.append(f"dead letter at offset {r['offset']} of partition {r['partition']} is not an event: {r['value']!r}")
            continue
        copies.setdefault(id_, []).append(r)
        h = r["headers"]
        where = f"dead letter of id {id_} (DLQ {r['partition']}/{r['offset']})"
        if r["key"] != str(id_):
            problems.append(f"{where}: key {r['key']!r}, expected {str(id_)!r}")
        if h.get("original_topic") != topic or h.get("original_consumer_group") != group:
            problems.append(f"{where}: original_topic {h.get('original_topic')!r}, "
                            f"original_consumer_group {h.get('original_consumer_group')!r}")
        if h.get("original_attempts") != str(max_retries + 1):
            problems.append(f"{where}: original_attempts {h.get('original_attempts')!r}, expected {max_retries + 1}")
        if "PoisonEvent" not in h.get("error_class", "") or f"poison event {id_} " not in h.get("error_message", ""):
            problems.append(f"{where}: error_class {h.get('error_class')!r}, error_message {h.get('error_message')!r}")
        try:
            at = (int(h["original_partition"]), int(h["original_offset"]))
        except (KeyError, ValueError):
            problems.append(f"{where}: no original_partition/original_offset: {h}")
            continue
        if source.get(at) != r["value"]:
            problems.append(f"{where}: original {at[0]}/{at[1]} holds {source.get(at)!r}, not {r['value']!r}")
    dlq_ids = set(copies)
    both = db_ids & dlq_ids
    lost = [i for i in range(events) if i not in db_ids and i not in dlq_ids]
    if both:
        problems.append(f"{len(both)} ids both in the database and in the dead-letter topic, e.g. {sorted(both)[:5]}")
    if poison & db_ids:
        problems.append(f"{len(poison & db_ids)} poison ids in the database, e.g. {sorted(poison & db_ids)[:5]}")
    if dlq_ids - poison:
        problems.append(f"{len(dlq_ids - poison)} ids in the dead-letter topic that are not poison, "
                        f"e.g. {sorted(dlq_ids - poison)[:5]}")
    if poison - dlq_ids:
        problems.append(f"{len(poison - dlq_ids)} poison ids not in the dead-letter topic, e.g. {sorted(poison - dlq_ids)[:5]}")
    duplicates = []  # (id, label of the window it straddles, or None)
    for id_, rs in sorted(copies.items()):
        ts = sorted(r["timestamp"] for r in rs)
        for a, b in zip(ts, ts[1:]):
            w = next((w for w in windows if a <= w[1] and b > w[0]), None)
            duplicates.append((id_, w[2] if w else None))
    if graceful_only and duplicates:
        problems.append(f"{len(duplicates)} dead letters produced twice in a run with graceful stops only")
    unexplained = [d for d in duplicates if d[1] is None]
    if unexplained and not graceful_only:
        problems.append(f"{len(unexplained)} dead letters produced twice without a SIGKILL between the copies, "
                        f"ids {[d[0] for d in unexplained[:5]]}")
    return problems, dict(poison=len(poison), dlq=len(dlq), dlq_ids=len(dlq_ids), lost=lost, duplicates=duplicates)


def check_verifiable(outputs):
    """The invariants of Kafka's system tests over verifiable_consumer outputs (one list of
    JSON events per member process, in order). Returns a list of violations."""
    import json
    problems = []
    seen = {}  # (topic, partition, offset) -> count, over all members
    for name, lines in outputs.items():
        owned = set()
        consumed_to = {}  # (topic, partition) -> next offset consumed, in this assignment
        committed = {}  # (topic, partition) -> offset of this member's last successful commit
        for raw in lines:
            try:
                e = json.loads(raw)
            except ValueError:
                continue
            kind = e.get("name")
            if kind == "partitions_assigned":
                for tp in e["partitions"]:
                    owned.add((tp["topic"], tp["partition"]))
                    consumed_to.pop((tp["topic"], tp["partition"]), None)
            elif kind == "partitions_revoked":
                # Kafka's checkers expect the revocation's commit before the revocation: the
                # consumed position of each revoked partition is committed by then.
                for tp in e["partitions"]:
                    key = (tp["topic"], tp["partition"])
                    if key in consumed_to and committed.get(key) != consumed_to[key]:
                        problems.append(f"{name}: {key} revoked at consumed position {consumed_to[key]} "
                                        f"before a commit of it (last commit {committed.get(key)})")
                    owned.discard(key)
                    consumed_to.pop(key, None)
            elif kind == "records_consumed":
                for tp in e["partitions"]:
                    key = (tp["topic"], tp["partition"])
                    if key not in owned:
                        problems.append(f"{name}: records of {key} consumed while not assigned")
                    if key in consumed_to and tp["minOffset"] != consumed_to[key]:
                        problems.append(f"{name}: {key} jumped from {consumed_to[key]} to {tp['minOffset']} "
                                        f"inside one assignment (gap or rewind)")
                    consumed_to[key] = tp["maxOffset"] + 1
                    for o in range(tp["minOffset"], tp["maxOffset"] + 1):
                        seen[key + (o,)] = seen.get(key + (o,), 0) + 1
            elif kind == "offsets_committed" and e.get("success"):
                if e["offsets"] and all(committed.get((tp["topic"], tp["partition"])) == tp["offset"]
                                        for tp in e["offsets"]):
                    problems.append(f"{name}: commit line repeated: {raw}")
                for tp in e["offsets"]:
                    key = (tp["topic"], tp["partition"])
                    committed[key] = tp["offset"]
                    if key not in owned:
                        problems.append(f"{name}: commit for {key} which it does not own")
                    elif tp["offset"] > consumed_to.get(key, -1):
                        problems.append(f"{name}: commit of {key} at {tp['offset']} ahead of the consumed "
                                        f"position {consumed_to.get(key)}")
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    if duplicates:
        problems.append(f"{duplicates} records consumed twice after clean bounces")
    return problems, len(seen)


def verifiable_phase(bin_dir, brokers, topic, events, rng, work, args):
    """Kafka's 'clean bounce' test with verifiable_consumer: two members (v1 with
    --enable-autocommit, v2 committing each batch synchronously), SIGTERM and restart them
    in turn, then check the system-test invariants. Under the run's group protocol and
    rebalance protocol."""
    outputs = {}
    procs = {}

    def start(name):
        f = open(work / "logs" / f"{name}.jsonl", "w")
        mode = ["--enable-autocommit"] if name == "v1" else []
        procs[name] = (subprocess.Popen([str(bin_dir / "verifiable_consumer"), "--bootstrap-server", brokers,
                                         "--topic", topic, "--group-id", "verifiable", *mode,
                                         "--group-protocol", args.group_protocol,
                                         "--assignment-strategy", args.rebalance_protocol],
                                        stdout=f, stderr=subprocess.DEVNULL), f)

    def stop(name):
        proc, f = procs.pop(name)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
        f.close()
        outputs.setdefault(name, []).extend((work / "logs" / f"{name}.jsonl").read_text().splitlines())
        return rc

    bad = []
    start("v1")
    start("v2")
    produced = events
    for i in range(4):  # clean bounces, with new records arriving meanwhile
        produce(bin_dir, brokers, topic, produced, 5000)
        produced += 5000
        time.sleep(rng.uniform(0.5, 2.0))
        name = f"v{1 + i % 2}"
        rc = stop(name)
        if rc != 0:
            bad.append(f"{name} exited {rc} on SIGTERM")
        log(f"verifiable: bounced {name} (exit {rc})")
        start(name)
    time.sleep(8)
    for name in list(procs):
        rc = stop(name)
        if rc != 0:
            bad.append(f"{name} exited {rc} on SIGTERM")
    problems, distinct = check_verifiable(outputs)
    if distinct < produced:
        problems.append(f"verifiable consumers saw {distinct} of {produced} records")
    return bad + problems


def verifiable_only(args, kafka, bin_dir, rng, work, seed):
    try:
        brokers = kafka.bootstrap = args.brokers or kafka.start()
        topic = f"verifiable_{seed}"
        kafka.create_topic(topic, args.partitions)
        produce(bin_dir, brokers, topic, 0, args.events)
        log(f"verifiable_consumer on {brokers}, topic {topic}: clean bounces with Kafka's system-test invariants")
        verifiable = verifiable_phase(bin_dir, brokers, topic, args.events, rng, work, args)
        print(f"verifiable_consumer clean bounces: {len(verifiable)} invariant violations")
        for v in verifiable[:10]:
            print(f"  {v}")
        if verifiable:
            print(f"TORTURE FAILED; logs: {work / 'logs'}; replay with --seed {seed}")
            return 1
        print("TORTURE PASSED (verifiable_consumer phase only)")
        return 0
    finally:
        if not args.brokers:
            kafka.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=5.0, help="how long the chaos lasts")
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--nodes", type=int, choices=(1, 3), default=1)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--graceful-only", action="store_true", help="no SIGKILL of members or brokers")
    p.add_argument("--exactly-once", action="store_true",
                   help="members are exactly_once_import (offsets in the database's transaction): no duplicate at all")
    p.add_argument("--transactional", action="store_true",
                   help="members are transactional_copy (Kafka transactions) copying to " + COPY_TOPIC +
                        ": a read_committed reader sees every event exactly once")
    p.add_argument("--rebalance-protocol", choices=("eager", "cooperative-sticky"), default="eager")
    p.add_argument("--group-protocol", choices=("classic", "consumer"), default="classic",
                   help="consumer: KIP-848 (needs a build on librdkafka >= 2.12 and --kafka-version 4.x)")
    p.add_argument("--kafka-version", help="Kafka version for scripts/kafka-local (default: its own)")
    p.add_argument("--poison-share", type=float, default=0.0,
                   help="share of events (chosen by the seed) produced with \"poison\": true, which"
                        " buffered_import fails on and dead-letters after --max-retries retries")
    p.add_argument("--max-retries", type=int, default=2, help="with --poison-share: the dead-letter queue's")
    p.add_argument("--flush-size", type=int, default=500)
    p.add_argument("--commit-interval-ms", type=int, default=1000)
    p.add_argument("--build", default=str(ROOT / "build"))
    p.add_argument("--verifiable-only", action="store_true",
                   help="only the verifiable_consumer phase (no chaos), on a new topic of --events events")
    p.add_argument("--brokers", help="with --verifiable-only: a running Kafka to use instead of starting one")
    args = p.parse_args()
    args.dead_letter_topic = "user_events_dlq"
    if args.kafka_version:
        os.environ["SAMSA_KAFKA_VERSION"] = args.kafka_version

    if args.transactional and (args.exactly_once or args.poison_share > 0 or args.verifiable_only):
        p.error("--transactional runs transactional_copy alone: not with --exactly-once, --poison-share or "
                "--verifiable-only")
    seed = args.seed if args.seed is not None else random.randrange(1, 1_000_000)
    rng = random.Random(seed)
    # Drawn apart from the schedule, so that a seed replays the same chaos with or without them.
    poison = set(random.Random(f"poison {seed}").sample(range(args.events), round(args.poison_share * args.events)))
    bin_dir = Path(args.build) / "bin"
    work = Path(args.build) / "torture"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    (work / "logs").mkdir(parents=True)
    # transactional_copy writes no database: its members' output is checked in Kafka.
    db = NoDatabase(str(work / "events.db")) if args.transactional else Database(str(work / "events.db"))
    topic, group = "user_events", "copy" if args.transactional else "events"  # as the members route it
    log(f"seed {seed} (replay with --seed {seed}); {args.events} events over {args.partitions} partitions, "
        f"{args.nodes} broker(s), {args.minutes} min, {args.rebalance_protocol} rebalancing, "
        f"group protocol {args.group_protocol}, Kafka {args.kafka_version or 'default'}"
        f"{', graceful stops only' if args.graceful_only else ''}{', exactly_once_import' if args.exactly_once else ''}"
        f"{', transactional_copy' if args.transactional else ''}"
        f"{f', {len(poison)} poison events' if poison else ''}")

    kafka = Kafka(work / "kafka", args.nodes)
    if args.verifiable_only:
        return verifiable_only(args, kafka, bin_dir, rng, work, seed)
    members = []
    stats = dict(kills=0, broker_kills=0, graceful=0, started=0, bad_exits=0, unconfirmed=0)
    # One window per SIGKILL, in database rows: [rowid at the kill, rowid when its effects
    # are over]. A member's window is the instant of its death. A broker's lasts until the
    # group has recovered (restart + session timeout + a rejoin): members keep importing
    # what they had fetched while their commits fail, and then lose their assignment.
    kill_windows = []  # [start_rowid, end_rowid or None, end_time]
    # The same windows in wall-clock milliseconds, for the dead letters (whose CreateTime
    # tells when they were produced): [start_ms, end_ms or None, what]. A broker's ends when
    # its row window ends.
    time_windows = []

    def now_ms():
        return int(time.time() * 1000)

    def stopped(m, rc):
        # Exit 5: the stop was graceful but the broker did not confirm the final commit (a
        # broker just killed, membership lost). Samsa says so; what it imported after the
        # last confirmed commit is delivered again, like after a SIGKILL. Only chaos can
        # cause it: in a graceful-only run it is a failure like any other non-zero exit.
        stats["graceful"] += 1
        m.counted = True  # its exit is judged here, not as one "by itself"
        if rc == 5 and not args.graceful_only:
            stats["unconfirmed"] += 1
            mark = db.max_rowid()
            kill_windows.append([mark, mark, None])
            time_windows.append([now_ms(), now_ms(), f"graceful stop of {m.name} exiting 5"])
        elif rc != 0:
            stats["bad_exits"] += 1
        log(f"SIGTERM {m.name}: exit {rc}")
    try:
        brokers = kafka.start()
        log(f"real Kafka at {brokers}")
        kafka.create_topic(topic, args.partitions)
        if args.transactional:
            kafka.create_topic(COPY_TOPIC, args.partitions)
        if poison:
            kafka.create_topic(args.dead_letter_topic, args.partitions)  # as `topics create` makes it

        # A fifth of the events up front, the rest by a producer thread at a steady rate over
        # 90% of the run, so that the members are busy whenever the chaos strikes (a kill
        # between an import and the next commit is what makes duplicates). A broker crash
        # waits for the chunk being produced (produce_lock), so that no chunk is half
        # delivered and retried: the log holds each id exactly once.
        first = args.events // 5
        produce(bin_dir, brokers, topic, 0, first, poison)
        per_second = max(1, int((args.events - first) / (args.minutes * 60 * 0.9)))
        progress = {"produced": first, "error": None}

        def producer():
            try:
                while progress["produced"] < args.events:
                    n = min(per_second, args.events - progress["produced"])
                    started = time.time()
                    with produce_lock:
                        produce(bin_dir, brokers, topic, progress["produced"], n, poison)
                        progress["produced"] += n
                    time.sleep(max(0.0, 1.0 - (time.time() - started)))
            except Exception as e:  # noqa: BLE001 - reported as a failure below
                progress["error"] = str(e)

        produce_lock = threading.Lock()
        producer_thread = threading.Thread(target=producer, daemon=True)
        producer_thread.start()

        def start_member():
            taken = {m.slot for m in members if m.alive()}
            slot = min(set(range(4)) - taken)
            members.append(Member(bin_dir, brokers, db.path, work / "logs", args, slot))
            stats["started"] += 1
            log(f"started {members[-1].name} ({sum(m.alive() for m in members)} running)")

        start_member()
        deadline = time.time() + args.minutes * 60
        broker_killed = False
        broker_kill_at = time.time() + rng.uniform(0.3, 0.6) * args.minutes * 60
        while time.time() < deadline:
            time.sleep(rng.uniform(2.0, 6.0))
            running = [m for m in members if m.alive()]
            for m in members:
                if not m.alive() and m.proc.returncode not in (0, -signal.SIGKILL) and not getattr(m, "counted", False):
                    m.counted = True
                    stats["bad_exits"] += 1
                    log(f"{m.name} exited by itself with {m.proc.returncode}: see {m.log_path}")
            if not args.graceful_only and not broker_killed and time.time() >= broker_kill_at:
                node = rng.randint(1, args.nodes)
                with produce_lock:
                    log(f"SIGKILL broker node {node}")
                    kafka.kill(node)
                    stats["broker_kills"] += 1
                    window = [db.max_rowid(), None, None, [now_ms(), None, f"SIGKILL of broker node {node}"]]
                    kill_windows.append(window)
                    time_windows.append(window[3])
                    time.sleep(rng.uniform(2.0, 5.0))
                    kafka.restart(node)
                    window[2] = time.time() + 20
                log(f"broker node {node} restarted")
                broker_killed = True
                continue
            actions = []
            if len(running) < 3:
                actions.append("start")
            if len(running) > 1:
                actions.append("term")
                if not args.graceful_only:
                    actions.append("kill")
            for w in kill_windows:
                if w[1] is None and w[2] is not None and time.time() >= w[2]:
                    w[1] = db.max_rowid()
                    w[3][1] = now_ms()
            action = rng.choice(actions) if actions else "wait"
            log(f"produced {progress['produced']}/{args.events}, imported {db.distinct()}")
            if action == "start":
                start_member()
            elif action == "term":
                m = rng.choice(running)
                stopped(m, m.term())
            elif action == "kill":
                m = rng.choice(running)
                m.kill()
                stats["kills"] += 1
                mark = db.max_rowid()
                kill_windows.append([mark, mark, None])
                time_windows.append([now_ms(), now_ms(), f"SIGKILL of {m.name}"])
                log(f"SIGKILL {m.name}")

        # The end: everything produced, one member at least, wait until all is imported.
        producer_thread.join()
        if progress["error"]:
            raise SystemExit(f"producing failed: {progress['error']}")
        log(f"produced {progress['produced']} events")
        if not any(m.alive() for m in members):
            start_member()
        log("chaos over: waiting until every event is imported" + (" or dead-lettered" if poison else ""))
        settle = time.time() + 180
        if args.transactional:
            # Nothing lands in the database: settled once the group committed the log end.
            while time.time() < settle:
                offsets = kafka.describe_group(group)
                if len(offsets) == args.partitions and all(c == end for c, end in offsets.values()):
                    break
                time.sleep(1)
        while not args.transactional and time.time() < settle and db.distinct() < args.events - len(poison):
            time.sleep(1)
        # A poison event last in its partition is not waited for by the database: wait until
        # the group committed past it too (its dead letter was acknowledged before the mark).
        while poison and time.time() < settle and any(c != end for c, end in kafka.describe_group(group).values()):
            time.sleep(1)
        for m in members:
            if m.alive():
                stopped(m, m.term())

        # Checks.
        for w in kill_windows:
            if w[1] is None:
                w[1] = db.max_rowid()
        for w in time_windows:
            if w[1] is None:
                w[1] = now_ms()
        failures = []
        if args.transactional:
            copies = read_copies(bin_dir, brokers)
            ids = [c["id"] for c in copies]
            rows, distinct, db_ids = len(ids), len(set(ids)), set(ids)
            sources = {(c["source_partition"], c["source_offset"]) for c in copies}
            if len(sources) != len(copies):
                failures.append(f"{len(copies) - len(sources)} source offsets copied more than once")
        else:
            rows = db.query("SELECT COUNT(*) FROM events")[0][0]
            distinct = db.distinct()
            db_ids = {r[0] for r in db.query("SELECT DISTINCT id FROM events")}
        if poison:
            # Both topics read back with Kafka's own consumer (the source before the
            # verifiable phase adds to it).
            source = {(r["partition"], r["offset"]): r["value"] for r in kafka.read_topic(topic, args.events)}
            dlq = kafka.read_topic(args.dead_letter_topic)
            dlq_problems, dead = check_dead_letters(args.events, poison, db_ids, dlq, source, time_windows,
                                                    args.graceful_only, topic, group, args.max_retries)
            failures += dlq_problems
            lost = len(dead["lost"])
        else:
            lost = sum(1 for i in range(args.events) if i not in db_ids)
        if lost:
            failures.append(f"{lost} events lost")
        pairs = [] if args.transactional else \
            db.query("SELECT id, MIN(rowid), MAX(rowid), COUNT(*) FROM events GROUP BY id HAVING COUNT(*) > 1")
        duplicates = rows - distinct
        per_kill = [0] * len(kill_windows)
        unexplained = 0
        for _id, first, last, _n in pairs:
            k = next((i for i, (start, end, *_) in enumerate(kill_windows) if first <= end and last > start), None)
            if k is None:
                unexplained += 1
            else:
                per_kill[k] += 1
        if unexplained:
            failures.append(f"{unexplained} duplicated ids do not straddle a SIGKILL")
        if args.graceful_only and duplicates:
            failures.append(f"{duplicates} duplicates in a run with graceful stops only")
        if args.exactly_once and duplicates:
            failures.append(f"{duplicates} duplicates with the offsets in the database's transaction")
        if args.transactional and duplicates:
            failures.append(f"{duplicates} duplicates seen by a read_committed reader of {COPY_TOPIC}")
        if stats["bad_exits"]:
            failures.append(f"{stats['bad_exits']} graceful stops did not exit 0 (or 5 during chaos)")
        if stats["unconfirmed"]:
            log(f"{stats['unconfirmed']} graceful stops exited 5: the broker did not confirm their final commit")
        offsets = kafka.describe_group(group)
        lagging = {k: v for k, v in offsets.items() if v[0] != v[1]}
        if len(offsets) != args.partitions or lagging:
            failures.append(f"committed offsets differ from the log-end offsets: {lagging or offsets}")
        rebalances = sum(len(re.findall(r": assigned ", (work / "logs" / f"{m.name}.log").read_text()))
                         for m in members)
        log("verifiable_consumer: clean bounces with Kafka's system-test invariants")
        verifiable = verifiable_phase(bin_dir, brokers, topic, args.events, rng, work, args)
        failures += [f"verifiable: {v}" for v in verifiable[:10]]

        print()
        print(f"| seed | events | kills | graceful stops | members started | rebalances | broker restarts | lost | duplicates | largest duplicate window |")
        print(f"|---|---|---|---|---|---|---|---|---|---|")
        print(f"| {seed} | {args.events} | {stats['kills']} | {stats['graceful']} | {stats['started']} | {rebalances} | "
              f"{stats['broker_kills']} | {lost} | {duplicates} | {max(per_kill, default=0)} events |")
        print()
        print(f"committed = log end on {len(offsets) - len(lagging)}/{args.partitions} partitions (ConsumerGroupCommand)")
        if poison:
            across = {}
            for _id, label in dead["duplicates"]:
                across[label or "no SIGKILL"] = across.get(label or "no SIGKILL", 0) + 1
            print(f"poison events: {dead['poison']}; dead letters: {dead['dlq']} ({dead['dlq_ids']} distinct ids); "
                  f"dead letters produced twice: {len(dead['duplicates'])}"
                  + "".join(f"; {n} across {label}" for label, n in sorted(across.items())))
        print(f"verifiable_consumer clean bounces: {len(verifiable)} invariant violations")
        if failures:
            print("TORTURE FAILED: " + "; ".join(failures))
            print(f"logs: {work / 'logs'}; replay with --seed {seed}")
            return 1
        print("TORTURE PASSED: nothing lost; "
              + ("no duplicates (exactly once)" if args.exactly_once or args.transactional
                 else "duplicates only across a SIGKILL")
              + ("; every poison event dead-lettered, no other" if poison else ""))
        return 0
    finally:
        for m in members:
            if m.alive():
                m.kill()
        kafka.stop()


if __name__ == "__main__":
    sys.exit(main())
