#!/usr/bin/env python3
"""End-to-end tests of examples/buffered_import on the embedded broker.

Each case starts its own `samsa broker`, produces numbered events with `samsa produce`,
runs buffered_import against a SQLite file, stops it with SIGTERM and then checks both
sides of the contract: the `events` table (what was imported, and how often) and the
group's committed offsets read back with `samsa offsets`. After a graceful stop the two
must agree on every partition: the imported offsets are exactly 0 .. committed-1, each once
(imported but not committed would be imported again by the next run; committed but not
imported is lost).

    tests/examples/buffered_import_test.py [--buffered-import BIN] [--samsa BIN] [unittest args]

Python 3 standard library only. ctest runs one case per test (tests/CMakeLists.txt).
"""
import argparse
import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = {"buffered_import": ROOT / "build/bin/buffered_import", "samsa": ROOT / "build/bin/samsa"}

TOPIC, GROUP, PARTITIONS = "user_events", "events", 4  # as routed in buffered_import.cpp

# Short sessions so that a member joins soon on the embedded broker (a restart waits the
# leaver's session.timeout.ms - 1 s there; scripts/demo goes down to 2 s),
# and a short back-off so that a failing partition is retried several times per case.
FAST = ["--set", "kafka.session.timeout.ms=6000", "--set", "kafka.heartbeat.interval.ms=500",
        "--set", "pause_timeout=200ms", "--set", "pause_max_timeout=1s"]


def wait_for(condition, timeout, step=0.1):
    """Polls condition() until it is true or `timeout` seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


class Members:
    """SIGKILL and SIGTERM of the member processes a test keeps in self.members (name ->
    Popen), each checked to be still running first. term_timeout: seconds a graceful stop
    may take."""

    term_timeout = 60

    def kill(self, name):
        proc = self.members[name]
        self.assertIsNone(proc.poll(), f"{name} ended before its SIGKILL")
        proc.kill()
        proc.wait()

    def term(self, name):
        proc = self.members[name]
        self.assertIsNone(proc.poll(), f"{name} ended before its SIGTERM")
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=self.term_timeout)


class BufferedImportTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="buffered_import_test."))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.db = self.dir / "events.db"
        self.log = self.dir / "buffered_import.log"
        self.consumer = None
        broker_out = self.output(self.dir / "broker.out")
        self.broker = subprocess.Popen(
            [str(BIN["samsa"]), "broker", "--partitions", str(PARTITIONS), "--topic", TOPIC],
            stdout=broker_out, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, self.broker)
        line = wait_for(lambda: re.search(r"^bootstrap: (\S+)$", (self.dir / "broker.out").read_text(), re.M), 10)
        self.assertTrue(line, "the embedded broker did not print its address")
        self.brokers = line.group(1)
        self.addCleanup(self.show_log)

    # -- processes ---------------------------------------------------------------------------

    def output(self, path):
        """A file for a child's output, closed after the case."""
        f = open(path, "w")
        self.addCleanup(f.close)
        return f

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    def show_log(self):
        """The consumer's log, for ctest --output-on-failure."""
        if self.log.exists():
            lines = self.log.read_text(errors="replace").splitlines()
            print(f"--- last lines of {self.log} ---", *lines[-40:], sep="\n")

    def samsa(self, *args):
        done = subprocess.run([str(BIN["samsa"]), *args], capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, f"samsa {' '.join(args)}: {done.stderr}")
        return done.stdout

    def produce(self, first, count, payload=None):
        extra = ["--payload", payload] if payload is not None else []
        self.samsa("produce", "--brokers", self.brokers, "--topic", TOPIC,
                   "--first", str(first), "--count", str(count), *extra)

    def start_consumer(self, *args, db=None):
        env = dict(os.environ, SAMSA_LOG_LEVEL="info")
        cmd = [str(BIN["buffered_import"]), "server", "--brokers", self.brokers,
               "--db", str(db or self.db), *FAST, *args]
        self.consumer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.output(self.log), env=env)
        self.addCleanup(self.stop, self.consumer)

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def sigterm(self):
        """Stops the consumer gracefully; returns its exit code (negative: killed by a signal)."""
        self.assertIsNone(self.consumer.poll(), "buffered_import ended before SIGTERM")
        self.consumer.send_signal(signal.SIGTERM)
        return self.consumer.wait(timeout=30)

    # -- what the consumer left behind ---------------------------------------------------------

    def committed(self):
        """{partition: (committed, end)}, committed -1 when the group committed nothing."""
        out = self.samsa("offsets", "--brokers", self.brokers, "--group", GROUP, "--topic", TOPIC)
        rows = {}
        for line in out.splitlines()[1:]:
            topic, partition, committed, end, _lag = line.split()
            rows[int(partition)] = (-1 if committed == "-" else int(committed), int(end))
        self.assertEqual(sorted(rows), list(range(PARTITIONS)), out)
        return rows

    def rows(self):
        """[(id, partition, offset)] of the events table ([] when there is no table yet)."""
        if not self.db.exists():
            return []
        with contextlib.closing(sqlite3.connect(self.db, timeout=10)) as db:
            try:
                return db.execute("SELECT id, partition, offset FROM events").fetchall()
            except sqlite3.OperationalError:  # no table yet
                return []

    def assert_imported_once_and_committed(self, rows, committed):
        """No event imported twice, and on every partition the imported offsets are exactly
        0 .. committed-1: nothing imported is left uncommitted, nothing committed is missing."""
        ids = [r[0] for r in rows]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        self.assertEqual(dupes, [], f"{len(ids) - len(set(ids))} events imported twice")
        for p, (c, end) in committed.items():
            offsets = sorted(o for _, q, o in rows if q == p)
            missing = sorted(set(range(max(c, 0))) - set(offsets))
            self.assertEqual(missing[:10], [], f"partition {p}: committed {c} but these offsets are not imported")
            beyond = [o for o in offsets if o >= max(c, 0)]
            self.assertEqual(beyond[:10], [], f"partition {p}: imported but not committed (committed {c})")

    # -- cases -------------------------------------------------------------------------------

    def test_bad_event_in_the_middle_of_a_batch(self):
        # Event id N goes to partition N % 4. 100 good events per partition (offsets 0-99),
        # then a bad one at offset 100 of partitions 1 (not JSON) and 2 (no "id"), then 100
        # good ones more per partition. A poll takes up to 1000 messages (max_messages), so
        # a bad event is in the middle of a batch (at the latest when it is delivered again
        # from offset 0), after good events that consume() buffered first.
        self.produce(0, 400)
        self.produce(1001, 1, payload="not json")
        self.produce(1002, 1, payload='{"name": "an event without an id"}')
        self.produce(400, 400)
        bad = {1: 100, 2: 100}

        self.start_consumer("--flush-size", "1000", "--flush-interval", "1000", "--set", "max_messages=1000")

        # The good partitions are imported by tick(); each bad one fails a few times.
        def settled():
            by_partition = [sum(1 for r in self.rows() if r[1] == p) for p in (0, 3)]
            failures = [len(re.findall(rf"(?i)fail.*{TOPIC}/{p}\b", self.log_text())) for p in bad]
            return by_partition == [200, 200] and min(failures) >= 3
        self.assertTrue(wait_for(settled, 25, step=0.25),
                        "partitions 0 and 3 not imported, or the bad events not retried 3 times")

        rc = self.sigterm()
        self.assertEqual(rc, 0, "graceful shutdown")
        rows, committed = self.rows(), self.committed()
        self.assert_imported_once_and_committed(rows, committed)
        for p in (0, 3):
            self.assertEqual(committed[p], (200, 200), f"partition {p} (no bad event): committed, end")
        for p, offset in bad.items():
            c, end = committed[p]
            self.assertEqual(end, 201)
            # The bad event stays unhandled: nothing at or after it is committed, and the good
            # events before it are either imported or delivered again to the next run.
            self.assertLessEqual(c, offset, f"partition {p}: committed past the bad event")
            self.assertFalse([o for _, q, o in rows if q == p and o >= offset],
                             f"partition {p}: an event at or after the bad one was imported")

    def test_poison_event_in_the_middle_of_a_batch_goes_to_the_dead_letter_topic(self):
        # As the bad events above, but "poison": true, at offset 100 of partitions 1 and 2,
        # with a dead-letter queue. consume() imports and marks the 100 events it buffered
        # before the poison one and then throws: the poison event is the first unmarked
        # message, so it is the one dispatched (not offset 0), and the partition goes on.
        self.produce(0, 400)
        self.produce(1001, 1, payload='{"id":1001,"poison":true}')
        self.produce(1002, 1, payload='{"id":1002,"poison":true}')
        self.produce(400, 400)

        self.start_consumer("--flush-size", "1000", "--flush-interval", "1000", "--set", "max_messages=1000",
                            "--dead-letter-topic", "user_events_dlq", "--max-retries", "2")
        self.assertTrue(wait_for(lambda: len(self.rows()) >= 800, 30, step=0.25), "the events were not imported")
        rc = self.sigterm()
        self.assertEqual(rc, 0, "graceful shutdown")

        rows, committed = self.rows(), self.committed()
        self.assertEqual(sorted(r[0] for r in rows), list(range(800)), "every good event imported once")
        self.assertEqual(committed, {0: (200, 200), 1: (201, 201), 2: (201, 201), 3: (200, 200)},
                         "committed = log end, past the poison events")
        for p in (1, 2):
            self.assertEqual(sorted(o for _, q, o in rows if q == p), [o for o in range(201) if o != 100])
        dispatched = re.findall(r"(user_events/\d+): the message at offset (\d+) failed (\d+) times.*"
                                r"dispatched to dead-letter topic 'user_events_dlq'", self.log_text())
        self.assertEqual(sorted(dispatched), [("user_events/1", "100", "3"), ("user_events/2", "100", "3")])

    def test_tick_imports_fail_while_the_database_is_locked(self):
        # A quiet topic: 800 events, no size flush, so only tick() imports. Another connection
        # holds the write lock of the database while the consumer starts, so tick()'s imports
        # fail (fast: --busy-timeout 100); then it lets go.
        self.produce(0, 800)
        lock = sqlite3.connect(self.db, isolation_level=None)
        # The example's table, made before the lock so that initialized() (which creates it)
        # succeeds and only the imports fail.
        lock.execute("PRAGMA journal_mode=WAL")
        lock.execute("CREATE TABLE events (id INTEGER, topic TEXT, partition INTEGER, "
                     "offset INTEGER, payload TEXT)")
        lock.execute("BEGIN IMMEDIATE")
        try:
            self.start_consumer("--flush-size", "1000", "--flush-interval", "500", "--busy-timeout", "100")
            self.assertTrue(wait_for(lambda: "database is locked" in self.log_text(), 25),
                            "tick() imports did not fail on the locked database")
            time.sleep(3)  # more ticks fail meanwhile
        finally:
            lock.execute("ROLLBACK")
            lock.close()

        wait_for(lambda: len(self.rows()) >= 800, 20, step=0.25)
        rc = self.sigterm()
        self.assertEqual(rc, 0, "graceful shutdown")
        rows, committed = self.rows(), self.committed()
        self.assert_imported_once_and_committed(rows, committed)
        self.assertEqual(sorted(r[0] for r in rows), list(range(800)), "every event imported once")
        self.assertEqual(committed, {p: (200, 200) for p in range(PARTITIONS)}, "committed = log end")

    def test_database_in_a_missing_directory(self):
        # initialized() cannot open the database: the process must neither crash nor import
        # nor commit anything, and must still stop cleanly.
        self.produce(0, 40)
        db = self.dir / "no such directory" / "x.db"
        self.start_consumer("--flush-size", "1000", "--flush-interval", "500", db=db)
        self.assertTrue(wait_for(lambda: str(db) in self.log_text(), 20), "the error is not reported")
        time.sleep(3)  # ticks and retries happen meanwhile
        rc = self.sigterm()
        # 0, or the code of a shutdown whose final commit was not confirmed: not a signal
        # (SIGSEGV), not a shutdown timeout (3), not a fatal Kafka error (4).
        self.assertTrue(rc == 0 or rc > 4 and rc != 130, f"exit code {rc}")
        errors = [line for line in self.log_text().splitlines() if str(db) in line]
        self.assertTrue(any(re.search(rf"{TOPIC}/\d", line) for line in errors),
                        "the error does not name the partition:\n" + "\n".join(errors[:5]))
        self.assertFalse(db.parent.exists())
        self.assertEqual(self.committed(), {p: (-1, 10) for p in range(PARTITIONS)}, "nothing committed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--buffered-import", type=Path, default=BIN["buffered_import"])
    parser.add_argument("--samsa", type=Path, default=BIN["samsa"])
    known, rest = parser.parse_known_args()
    BIN.update({"buffered_import": known.buffered_import, "samsa": known.samsa})
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
