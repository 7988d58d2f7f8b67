#!/usr/bin/env python3
"""`samsa consume` on the embedded broker: its two formats, its stops, reading as a group member
(--group, committing only with --commit) and its usage errors.

    tests/tools/consume_cli_test.py --samsa BIN [unittest args]

Python 3 standard library only. admin::read_topic itself (headers, tombstones, offsets) is
tested in tests/integration/read_topic_test.cpp.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

SAMSA = None


class ConsumeCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.NamedTemporaryFile("w+", suffix=".broker.out")
        cls.broker = subprocess.Popen([SAMSA, "broker", "--partitions", "2", "--topic", "events"],
                                      stdout=cls.out, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            m = re.search(r"^bootstrap: (\S+)$", Path(cls.out.name).read_text(), re.M)
            if m:
                cls.brokers = m.group(1)
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the embedded broker did not start")
        subprocess.run([SAMSA, "produce", "--brokers", cls.brokers, "--topic", "events", "--count", "6",
                        "--partitions", "2"], check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        cls.broker.terminate()
        cls.broker.wait()
        cls.out.close()

    def consume(self, *args):
        return subprocess.run([SAMSA, "consume", "--brokers", self.brokers, *args], capture_output=True, text=True,
                              timeout=60)

    def test_json_lines_from_the_beginning_to_the_end(self):
        r = self.consume("--topic", "events", "--from-beginning", "--until-end", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(len(lines), 6)
        self.assertEqual(sorted(json.loads(x["value"])["id"] for x in lines), list(range(6)))
        for x in lines:
            self.assertEqual(set(x), {"topic", "partition", "offset", "timestamp_ms", "key", "headers", "value"})
            self.assertEqual(x["key"], str(json.loads(x["value"])["id"]))
        self.assertIn("6 records from events", r.stderr)

    def test_text_with_a_count_and_one_partition_from_an_offset(self):
        r = self.consume("--topic", "events", "--partition", "1", "--offset", "1", "--count", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 4, r.stdout)  # no headers: two lines per record
        self.assertRegex(lines[0], r"^events/1@1  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  key=3$")
        self.assertEqual(json.loads(lines[1].strip())["id"], 3)
        self.assertTrue(lines[2].startswith("events/1@2 "))

    def offsets(self, group):
        """The committed offset of each partition of `events` for `group` ("-" for none)."""
        r = subprocess.run([SAMSA, "offsets", "--brokers", self.brokers, "--group", group, "--topic", "events"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {int(row.split()[1]): row.split()[2] for row in r.stdout.splitlines()[1:]}

    def test_a_group_member_commits_only_when_asked(self):
        # A 2 s session: the embedded broker admits the next member of a group only the
        # leaver's session.timeout.ms - 1 s after it left. Not on librdkafka 2.0.2, whose
        # embedded broker answers a group's first JoinGroup after 3 s: a 2 s session expires
        # first and the member never gets its partitions. There the tool's own 6 s.
        version = subprocess.run([SAMSA, "--version"], capture_output=True, text=True, timeout=30).stdout
        fast = [] if "on librdkafka 2.0." in version else [
            "--set", "kafka.session.timeout.ms=2000", "--set", "kafka.heartbeat.interval.ms=500"]
        r = self.consume("--topic", "events", "--group", "readers", "--from-beginning", "--until-end",
                         "--format", "json", *fast)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 6)
        self.assertIn("6 records from events as a member of group readers (nothing committed)", r.stderr)
        self.assertEqual(self.offsets("readers"), {0: "-", 1: "-"})

        r = self.consume("--topic", "events", "--group", "readers", "--commit", "--from-beginning", "--until-end",
                         "--format", "json", *fast)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 6, "nothing was committed before: from the beginning")
        self.assertIn("(offsets committed)", r.stderr)
        self.assertEqual(self.offsets("readers"), {0: "3", 1: "3"})

        # Again: from the group's committed offsets, the ends, so nothing.
        r = self.consume("--topic", "events", "--group", "readers", "--from-beginning", "--until-end", *fast)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("0 records from events as a member of group readers", r.stderr)

    def test_usage_errors_exit_2_and_a_missing_topic_exits_1(self):
        r = self.consume("--topic", "events", "--offset", "3")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--offset needs --partition", r.stderr)
        r = self.consume("--topic", "events", "--format", "xml")
        self.assertEqual(r.returncode, 2)
        r = self.consume("--topic", "events", "--group", "g", "--partition", "0")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--group reads the partitions the group assigns", r.stderr)
        r = self.consume("--topic", "events", "--commit")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--commit needs --group", r.stderr)
        r = self.consume("--topic", "no_such_topic", "--until-end")
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not exist", r.stderr)
        v = subprocess.run([SAMSA, "--version"], capture_output=True, text=True)
        self.assertEqual(v.returncode, 0)
        self.assertRegex(v.stdout, r"^samsa \d+\.\d+\.\d+")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--samsa", required=True)
    known, rest = ap.parse_known_args()
    SAMSA = known.samsa
    unittest.main(argv=[sys.argv[0], *rest])
