#!/usr/bin/env python3
"""End-to-end test of examples/protobuf_orders (typed payloads) on the embedded broker.

Starts its own `samsa broker`, produces Protocol Buffers orders with the example's own
`produce` command, one of them written as a payload that is no order (--bad), runs the
example's server until every good order is logged as read typed and the bad payload is
dead-lettered, stops it with SIGTERM, and checks: each good order handled once, the bad one
in the dead-letter topic with its DeserializationError in the headers, and the group's
committed offsets (read back with `samsa offsets`) at the log end of every partition.

    tests/examples/protobuf_orders_test.py [--protobuf-orders BIN] [--samsa BIN] [unittest args]

Python 3 standard library only (the example writes the protobuf input itself).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The module, not its TestCase: a TestCase imported by name would run here too.
import buffered_import_test as base  # noqa: E402
from buffered_import_test import FAST, ROOT, wait_for  # noqa: E402

BIN = {"protobuf_orders": ROOT / "build/bin/protobuf_orders", "samsa": ROOT / "build/bin/samsa"}
TOPIC, GROUP, DLQ, PARTITIONS = "orders", "orders", "orders_dlq", 2  # as routed in protobuf_orders.cpp
BAD_ID = 21  # written by `produce --bad` as "not a protobuf order", among the good orders


class ProtobufOrdersTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="protobuf_orders_test."))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.log = self.dir / "protobuf_orders.log"
        out = self.dir / "broker.out"
        with open(out, "w") as f:  # the child keeps its own descriptor
            broker = subprocess.Popen([str(BIN["samsa"]), "broker", "--partitions", str(PARTITIONS), "--topic", TOPIC],
                                      stdout=f, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, broker)
        line = wait_for(lambda: re.search(r"^bootstrap: (\S+)$", out.read_text(), re.M), 10)
        self.assertTrue(line, "the embedded broker did not print its address")
        self.brokers = line.group(1)
        self.addCleanup(self.show_log)

    # The same process and log helpers as buffered_import's test (self.log is the example's).
    stop = staticmethod(base.BufferedImportTest.stop)
    show_log = base.BufferedImportTest.show_log
    log_text = base.BufferedImportTest.log_text

    def run_tool(self, binary, *args):
        done = subprocess.run([str(BIN[binary]), *args], capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, f"{binary} {' '.join(args)}: {done.stderr}")
        return done.stdout

    def handled(self):
        """[(order id, partition, offset)] the consumer logged as read with payload<orders::Order>()."""
        return [(int(i), int(p), int(o)) for i, p, o in
                re.findall(r"order (\d+) of customer-\d+: \d+ lines, \d+ cents \(orders/(\d+)@(\d+)\)", self.log_text())]

    def committed(self):
        """{partition: (committed, end)}, committed -1 when the group committed nothing."""
        out = self.run_tool("samsa", "offsets", "--brokers", self.brokers, "--group", GROUP, "--topic", TOPIC)
        rows = {}
        for line in out.splitlines()[1:]:
            _topic, partition, committed, end, _lag = line.split()
            rows[int(partition)] = (-1 if committed == "-" else int(committed), int(end))
        return rows

    def test_orders_are_read_typed_and_a_payload_that_is_no_order_is_dead_lettered(self):
        # One producer batch: the bad payload is in the middle of the batch consume() gets, after
        # good orders of its partition that a consumer marking one by one handles only once.
        self.assertIn("produced 41 messages", self.run_tool("protobuf_orders", "produce", "--brokers", self.brokers,
                                                            "--count", "41", "--first", "1", "--bad", str(BAD_ID)))
        good = [i for i in range(1, 42) if i != BAD_ID]

        env = dict(os.environ, SAMSA_LOG_LEVEL="info")
        with open(self.log, "w") as err:
            server = subprocess.Popen([str(BIN["protobuf_orders"]), "server", "--brokers", self.brokers,
                                       "--max-retries", "2", *FAST], stdout=subprocess.DEVNULL, stderr=err, env=env)
        self.addCleanup(self.stop, server)
        done = wait_for(lambda: len(self.handled()) >= len(good) and "dispatched to dead-letter topic" in self.log_text(),
                        60, step=0.25)
        self.assertTrue(done, f"{len(self.handled())} of {len(good)} orders handled, or nothing dead-lettered")
        server.send_signal(signal.SIGTERM)
        self.assertEqual(server.wait(timeout=30), 0, "graceful shutdown")

        handled = self.handled()
        self.assertEqual(sorted(i for i, _, _ in handled), good, "every good order handled once")
        committed = self.committed()
        self.assertEqual(sorted(committed), list(range(PARTITIONS)))
        for p, (c, end) in committed.items():
            self.assertEqual(c, end, f"partition {p}: committed at the log end, past the bad payload")
        self.assertEqual(sum(end for _, end in committed.values()), 41)

        failures = re.findall(r"consume failed on orders/\d .*cannot deserialize the message at orders/(\d)@(\d+): "
                              r"not a protobuf orders\.Order", self.log_text())
        self.assertEqual(len(failures), 3, "the first delivery and --max-retries 2 retries, then the dead letter")
        self.assertEqual(len(set(failures)), 1, failures)
        bad_partition, bad_offset = map(int, failures[0])
        self.assertNotIn((bad_partition, bad_offset), [(p, o) for _, p, o in handled])
        self.assertTrue([o for _, p, o in handled if p == bad_partition and o < bad_offset],
                        "good orders before the bad one in its partition")

        out = self.run_tool("samsa", "consume", "--brokers", self.brokers, "--topic", DLQ, "--from-beginning",
                            "--until-end", "--format", "json")
        dead = [json.loads(line) for line in out.splitlines() if line.strip()]
        self.assertEqual(len(dead), 1, out)
        self.assertEqual(dead[0]["value"], "not a protobuf order")
        headers = dead[0]["headers"]
        self.assertEqual(headers["error_class"], "samsa::DeserializationError")
        self.assertIn(f"orders/{bad_partition}@{bad_offset}: not a protobuf orders.Order", headers["error_message"])
        self.assertEqual((headers["original_partition"], headers["original_offset"], headers["original_attempts"]),
                         (str(bad_partition), str(bad_offset), "3"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--protobuf-orders", type=Path, default=BIN["protobuf_orders"])
    parser.add_argument("--samsa", type=Path, default=BIN["samsa"])
    known, rest = parser.parse_known_args()
    BIN.update({"protobuf_orders": known.protobuf_orders, "samsa": known.samsa})
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
