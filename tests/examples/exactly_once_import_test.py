#!/usr/bin/env python3
"""End-to-end tests of examples/exactly_once_import on the embedded broker.

Each case starts its own `samsa broker`, produces numbered events, and runs one or two
exactly_once_import members against a SQLite file through SIGKILLs, restarts and
rebalances. Then it checks the `events` table (every event exactly once: no duplicate even
after a SIGKILL, unlike buffered_import's at-least-once), the offsets the database stores
(samsa_offsets: the log end) and, after a graceful stop, the group's committed offsets read
back with `samsa offsets` (the log end too).

    tests/examples/exactly_once_import_test.py [--exactly-once-import BIN] [--samsa BIN] [unittest args]

Python 3 standard library only; shares buffered_import_test's broker and helpers.
"""
import argparse
import contextlib
import os
import random
import sqlite3
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import buffered_import_test as base  # noqa: E402

ROOT = base.ROOT
BIN = {"exactly_once_import": ROOT / "build/bin/exactly_once_import"}
TOPIC, GROUP, PARTITIONS = base.TOPIC, base.GROUP, base.PARTITIONS


class ExactlyOnceImportTest(base.Members, base.BufferedImportTest):
    def setUp(self):
        super().setUp()
        self.members = {}

    def start_member(self, name, *args, db=None):
        """Starts member `name` (its log: <name>.log); replaces a member of that name that ended."""
        env = dict(os.environ, SAMSA_LOG_LEVEL="info")
        log = self.dir / f"{name}.log"
        self.log = log  # show_log prints the last one started
        cmd = [str(BIN["exactly_once_import"]), "server", "--brokers", self.brokers,
               "--db", str(db or self.db), *base.FAST, *args]
        with open(log, "a") as err:  # the child keeps its own descriptor
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        self.addCleanup(self.stop, proc)
        self.members[name] = proc
        return proc

    def stored(self):
        """{partition: next_offset} of samsa_offsets."""
        with contextlib.closing(sqlite3.connect(self.db, timeout=10)) as db:
            return dict(db.execute("SELECT partition, next_offset FROM samsa_offsets "
                                   "WHERE consumer_group = ? AND topic = ?", (GROUP, TOPIC)).fetchall())

    def assert_exactly_once(self, total):
        rows = self.rows()
        ids = sorted(r[0] for r in rows)
        dupes = len(ids) - len(set(ids))
        self.assertEqual(dupes, 0, f"{dupes} events imported twice")
        self.assertEqual(ids, list(range(total)), "every event imported")

    def test_sigkills_and_rebalances_import_every_event_exactly_once(self):
        total = 0

        def produce(n):
            nonlocal total
            self.produce(total, n)
            total += n

        produce(8000)
        small = ["--set", "max_messages=50"]
        self.start_member("a", *small)
        kills = 0
        rng = random.Random(7)
        # Rounds: let it import a while, SIGKILL a member, start it again (with a second
        # member from round 2 on: rebalances), and produce more in between.
        for round_ in range(4):
            before = len(self.rows())
            self.assertTrue(base.wait_for(lambda: len(self.rows()) > before + 200, 30, step=0.05),
                            f"round {round_}: nothing imported")
            time.sleep(rng.uniform(0.05, 0.4))
            victim = "a" if round_ % 2 == 0 or "b" not in self.members else "b"
            self.kill(victim)
            kills += 1
            produce(2000)
            self.start_member(victim, *small)
            if round_ == 1:
                self.start_member("b", *small)
        self.assertTrue(base.wait_for(lambda: len(self.rows()) >= total, 60, step=0.25),
                        f"{len(self.rows())} of {total} imported")
        self.assert_exactly_once(total)
        # One member at a time, each once the other owns every partition again: a member that
        # stops while the group rebalances cannot commit (exit code 5), which is Kafka's
        # committed offset only: the database has every event once either way.
        owned_all = "(4 partitions owned)"
        self.assertEqual(self.term("b"), 0, "b: graceful shutdown")
        a_log = self.dir / "a.log"
        seen = a_log.read_text(errors="replace").count(owned_all)
        self.assertTrue(base.wait_for(lambda: a_log.read_text(errors="replace").count(owned_all) > seen, 30),
                        "a did not take b's partitions")
        self.assertEqual(self.term("a"), 0, "a: graceful shutdown")
        self.assert_exactly_once(total)
        committed = self.committed()
        ends = {p: end for p, (_, end) in committed.items()}
        self.assertEqual(self.stored(), ends, "the database's offsets are the log end")
        self.assertEqual({p: c for p, (c, _) in committed.items()}, ends, "Kafka's committed offsets are the log end")
        self.assertEqual(kills, 4)
        print(f"{total} events, {kills} SIGKILLs, 2 members: 0 lost, 0 duplicates")

    def test_poison_event_goes_to_the_dead_letter_topic_and_is_marked_in_the_database(self):
        self.produce(0, 400)
        self.produce(1001, 1, payload='{"id":1001,"poison":true}')
        self.produce(400, 400)
        self.start_member("a", "--set", "max_messages=1000", "--dead-letter-topic", "user_events_dlq",
                          "--max-retries", "2")
        self.assertTrue(base.wait_for(lambda: len(self.rows()) >= 800, 30, step=0.25), "the events were not imported")
        self.assertEqual(self.term("a"), 0, "graceful shutdown")
        self.assert_exactly_once(800)
        self.assertEqual(self.stored(), {0: 200, 1: 201, 2: 200, 3: 200}, "stored past the poison event")
        self.assertEqual(self.committed(), {0: (200, 200), 1: (201, 201), 2: (200, 200), 3: (200, 200)})

    def test_database_in_a_missing_directory_is_a_clear_error(self):
        db = self.dir / "no such directory" / "x.db"
        proc = self.start_member("a", db=db)
        rc = proc.wait(timeout=30)
        self.assertEqual(rc, 2, "a configuration error")
        text = (self.dir / "a.log").read_text(errors="replace")
        self.assertIn(str(db), text)
        self.assertFalse(db.parent.exists())


class ExactlyOnceImportPostgresqlTest(ExactlyOnceImportTest):
    """The same cases with --db postgresql://... (SAMSA_TEST_POSTGRES: scripts/run-tests postgres
    starts the server). Each case has a database of its own, made and dropped here."""

    def setUp(self):
        super().setUp()
        server = os.environ.get("SAMSA_TEST_POSTGRES")
        self.assertTrue(server, "SAMSA_TEST_POSTGRES is not set: run scripts/run-tests postgres")
        name = f"eo_{os.getpid()}_{random.randrange(1 << 30)}"
        self.psql(server, f"CREATE DATABASE {name}")
        self.addCleanup(self.psql, server, f"DROP DATABASE {name} WITH (FORCE)")
        self.db = server.rsplit("/", 1)[0] + "/" + name

    @staticmethod
    def psql(uri, sql):
        done = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", uri, "-c", sql], capture_output=True, text=True,
                              timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"psql {sql}: {done.stderr}")
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def rows(self):
        try:
            return [(int(i), int(p), int(o)) for i, p, o in self.psql(self.db, 'SELECT id, partition, "offset" FROM events')]
        except AssertionError:  # no table yet
            return []

    def stored(self):
        return {int(p): int(n) for p, n in self.psql(
            self.db, f"SELECT partition, next_offset FROM samsa_offsets WHERE consumer_group = '{GROUP}' "
                     f"AND topic = '{TOPIC}'")}


# Not buffered_import's own cases: only the helpers are shared.
for _name in dir(base.BufferedImportTest):
    if _name.startswith("test_") and _name not in ExactlyOnceImportTest.__dict__:
        setattr(ExactlyOnceImportTest, _name, None)
# A database in a missing directory is SQLite's case.
ExactlyOnceImportPostgresqlTest.test_database_in_a_missing_directory_is_a_clear_error = None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--exactly-once-import", type=Path, default=BIN["exactly_once_import"])
    parser.add_argument("--samsa", type=Path, default=base.BIN["samsa"])
    known, rest = parser.parse_known_args()
    BIN["exactly_once_import"] = known.exactly_once_import
    base.BIN["samsa"] = known.samsa
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2, defaultTest="ExactlyOnceImportTest")
