#!/usr/bin/env python3
"""End-to-end tests of examples/transactional_copy on real Kafka (SAMSA_TEST_BROKERS).

Each case copies its own input topic to its own output topic (consumer group `copy`, as the
example routes it) with one or two transactional_copy members, through SIGKILLs and
rebalances. Then it reads the output as a read_committed reader does
(samsa_topic_reader, plain librdkafka) and checks that every input message is there
exactly once (by its source_partition/source_offset headers), and that the group's
committed offsets, read back with `samsa offsets`, are the input's log end.

The embedded broker cannot run these: its mock cluster does not commit a transaction's
offsets. Without SAMSA_TEST_BROKERS the tests fail (make test always sets it).

    tests/examples/transactional_copy_test.py --transactional-copy BIN --samsa BIN --reader BIN [unittest args]

Python 3 standard library only.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from buffered_import_test import Members, wait_for  # noqa: E402

BIN = {}
PARTITIONS = 4
GROUP = "copy"  # as routed in transactional_copy.cpp
FAST = ["--set", "pause_timeout=200ms", "--set", "pause_max_timeout=1s", "--set", "max_messages=50"]


class TransactionalCopyTest(Members, unittest.TestCase):
    term_timeout = 90

    def setUp(self):
        self.brokers = os.environ.get("SAMSA_TEST_BROKERS", "")
        self.assertTrue(self.brokers, "these tests need real Kafka: set SAMSA_TEST_BROKERS (make test does)")
        self.dir = Path(tempfile.mkdtemp(prefix="transactional_copy_test."))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        suffix = f"{os.getpid()}_{random.randrange(1 << 30)}"
        self.source, self.copy, self.dlq = f"copy_in_{suffix}", f"copy_out_{suffix}", f"copy_dlq_{suffix}"
        self.members = {}
        self.produced = 0
        self.samsa("produce", "--topic", self.copy, "--count", "0", "--partitions", str(PARTITIONS))

    def samsa(self, *args):
        return subprocess.run([BIN["samsa"], *args, "--brokers", self.brokers], check=True, capture_output=True,
                              text=True, timeout=120).stdout

    def produce(self, count, payload=None):
        args = ["produce", "--topic", self.source, "--count", str(count), "--first", str(self.produced),
                "--partitions", str(PARTITIONS)]
        if payload is not None:
            args += ["--payload", payload]
        self.samsa(*args)
        self.produced += count

    def start(self, name, *args):
        """Member `name`, transactional.id prefix `name` (kept across its restarts)."""
        log = self.dir / f"{name}.log"
        self.log = log
        cmd = [BIN["transactional_copy"], "server", "--brokers", self.brokers, "--from", self.source,
               "--to", self.copy, "--transactional-id", f"{self.source}-{name}", *FAST, *args]
        with open(log, "a") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                    env=dict(os.environ, SAMSA_LOG_LEVEL="info"))
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        self.members[name] = proc

    def offsets(self):
        """{partition: (committed, end)} of the source topic for group `copy`."""
        out = self.samsa("offsets", "--group", GROUP, "--topic", self.source)
        rows = {}
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 4 and f[0] == self.source:
                committed = int(f[2]) if f[2].lstrip("-").isdigit() else -1
                rows[int(f[1])] = (committed, int(f[3]))
        return rows

    def committed_total(self):
        return sum(max(c, 0) for c, _ in self.offsets().values())

    def all_committed(self):
        o = self.offsets()
        return len(o) == PARTITIONS and all(c == end for c, end in o.values())

    def read(self, topic):
        out = subprocess.run([BIN["reader"], "--brokers", self.brokers, "--topic", topic,
                              "--isolation", "read_committed", "--timeout-ms", "60000"],
                             check=True, capture_output=True, text=True, timeout=120).stdout
        return [json.loads(line) for line in out.splitlines()]

    def show_logs(self):
        for log in sorted(self.dir.glob("*.log")):
            sys.stderr.write(f"--- {log.name} (last 40 lines)\n")
            sys.stderr.write("\n".join(log.read_text(errors="replace").splitlines()[-40:]) + "\n")

    def assert_copied_exactly_once(self, expected_sources):
        copies = self.read(self.copy)
        seen = {}
        for c in copies:
            key = (int(c["headers"]["source_partition"]), int(c["headers"]["source_offset"]))
            seen[key] = seen.get(key, 0) + 1
        twice = {k: n for k, n in seen.items() if n > 1}
        self.assertEqual(twice, {}, "copied more than once (read_committed)")
        self.assertEqual(set(seen), expected_sources, "every input message copied")

    def sources(self, skip=frozenset()):
        """(partition, offset) of every input message, from the committed offsets' log end."""
        return {(p, o) for p, (_, end) in self.offsets().items() for o in range(end)} - set(skip)

    def test_sigkills_and_rebalances_copy_every_message_exactly_once(self):
        try:
            self.produce(3000)
            self.start("a")
            self.assertTrue(wait_for(lambda: self.committed_total() >= 500, 60), "a copies")
            self.kill("a")  # SIGKILL in the middle of the copying
            self.produce(3000)
            self.start("a")  # its producers' initialisation ends what the killed one left open
            self.start("b")  # a rebalance
            self.assertTrue(wait_for(lambda: self.committed_total() >= 4000, 90), "a and b copy")
            self.kill("b")
            self.produce(2000)
            self.start("b")
            self.assertTrue(wait_for(self.all_committed, 120), f"all committed: {self.offsets()}")
            self.assertEqual(self.term("a"), 0)
            self.assertEqual(self.term("b"), 0)
            self.assertTrue(self.all_committed(), f"committed = log end after the graceful stops: {self.offsets()}")
            self.assertEqual(sum(end for _, end in self.offsets().values()), 8000)
            self.assert_copied_exactly_once(self.sources())
        except Exception:
            self.show_logs()
            raise

    def test_poison_message_goes_to_the_dead_letter_topic_in_a_transaction(self):
        try:
            # Created up front (as `topics create` would): a dead letter to a topic that does not
            # exist fails its transaction, and the message is retried, never skipped.
            self.samsa("produce", "--topic", self.dlq, "--count", "0", "--partitions", "1")
            self.produce(200)
            self.produce(1, payload="poison")  # event 200, on partition 200 % 4 = 0
            self.produce(199)
            self.start("a", "--dead-letter-topic", self.dlq, "--max-retries", "1")
            self.assertTrue(wait_for(self.all_committed, 120), f"all committed: {self.offsets()}")
            self.assertEqual(self.term("a"), 0)
            letters = self.read(self.dlq)
            self.assertEqual(len(letters), 1, letters)
            poison = (int(letters[0]["headers"]["original_partition"]), int(letters[0]["headers"]["original_offset"]))
            self.assertEqual(letters[0]["value"], "poison")
            self.assert_copied_exactly_once(self.sources(skip={poison}))
        except Exception:
            self.show_logs()
            raise


if __name__ == "__main__":
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--transactional-copy", required=True)
    ap.add_argument("--samsa", required=True)
    ap.add_argument("--reader", required=True)
    known, rest = ap.parse_known_args()
    BIN.update({"transactional_copy": known.transactional_copy, "samsa": known.samsa, "reader": known.reader})
    unittest.main(argv=[sys.argv[0], *rest])
