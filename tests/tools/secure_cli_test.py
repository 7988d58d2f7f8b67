#!/usr/bin/env python3
"""The command lines on a secure listener: `samsa produce`, `samsa offsets`, `samsa offsets
reset`, `samsa consume`, and an app's `topics plan`, `topics create` and `server`, first with
the right settings, then with a wrong SASL password or an untrusted CA, where each must stop
with an error that names the setting to fix (never retry for ever).

    SAMSA_TEST_BROKERS=B SAMSA_TEST_KAFKA_PROPERTIES='security.protocol=SSL;ssl.ca.location=F' \\
        tests/tools/secure_cli_test.py --samsa BIN --app COUNTERS [unittest args]

The listener is the one SAMSA_TEST_BROKERS names, with the librdkafka properties of
SAMSA_TEST_KAFKA_PROPERTIES (KEY=VALUE;...): scripts/run-tests secure runs it on the TLS and
on the SASL/SCRAM listener of `scripts/kafka-local start --secure`. COUNTERS is
examples/counters (group "counters", topic "user_events"): one run at a time per cluster.
Python 3 standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid
from pathlib import Path

SAMSA = None
APP = None


def properties():
    text = os.environ.get("SAMSA_TEST_KAFKA_PROPERTIES", "")
    return dict(item.split("=", 1) for item in text.split(";") if item)


def set_args(props):
    out = []
    for key, value in props.items():
        out += ["--set", f"kafka.{key}={value}"]
    return out


class SecureCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.brokers = os.environ.get("SAMSA_TEST_BROKERS", "")
        cls.props = properties()
        if not cls.brokers or not cls.props:
            if os.environ.get("SAMSA_REQUIRE_REAL_KAFKA") == "1":  # under ctest: never a silent pass
                raise RuntimeError("SAMSA_TEST_BROKERS and SAMSA_TEST_KAFKA_PROPERTIES are not set: run "
                                   "scripts/run-tests secure")
            raise unittest.SkipTest("needs SAMSA_TEST_BROKERS and SAMSA_TEST_KAFKA_PROPERTIES (a secure listener)")
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def samsa(self, *args, props=None):
        return subprocess.run([SAMSA, *args, "--brokers", self.brokers, *set_args(self.props if props is None else props)],
                              capture_output=True, text=True, timeout=120)

    def app(self, *args, props=None, timeout=120):
        env = dict(os.environ, SAMSA_LOG_LEVEL="warn")
        return subprocess.run([APP, *args, "--brokers", self.brokers, *set_args(self.props if props is None else props)],
                              capture_output=True, text=True, timeout=timeout, env=env)

    def test_every_command_works_with_the_right_settings(self):
        topic = f"secure-cli-{uuid.uuid4().hex[:8]}"
        group = f"secure-cli-{uuid.uuid4().hex[:8]}"
        r = self.samsa("produce", "--topic", topic, "--count", "6", "--partitions", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        # Nothing committed yet; then the group is moved to offset 1 of each partition.
        r = self.samsa("offsets", "reset", "--group", group, "--topic", topic, "--to", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.samsa("offsets", "--group", group, "--topic", topic)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [line.split() for line in r.stdout.splitlines()[1:] if line.strip()]
        self.assertEqual([(row[0], row[2]) for row in rows], [(topic, "1"), (topic, "1")], r.stdout)
        r = self.samsa("consume", "--topic", topic, "--from-beginning", "--until-end", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        ids = sorted(json.loads(json.loads(line)["value"])["id"] for line in r.stdout.splitlines())
        self.assertEqual(ids, list(range(6)))
        # An app's topics plan and create, with the same settings under --set.
        r = self.app("topics", "plan")
        self.assertIn(r.returncode, (0, 6), r.stdout + r.stderr)
        r = self.app("topics", "create")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.app("topics", "plan")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("topic user_events: ok", r.stdout)

    def spoiled(self):
        """The test's properties made wrong, and the setting the errors must name."""
        props = dict(self.props)
        if "sasl.password" in props:
            props["sasl.password"] = "not-the-password"
            return props, "kafka.sasl.password"
        # A CA that did not sign the broker's certificate.
        ca = Path(self.tmp.name) / "other-ca.pem"
        if not ca.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                            "/CN=not-the-test-ca", "-keyout", str(ca.with_suffix(".key")), "-out", str(ca)],
                           check=True, capture_output=True)
        props["ssl.ca.location"] = str(ca)
        return props, "kafka.ssl.ca.location"

    def test_wrong_settings_fail_every_command_naming_the_setting(self):
        props, setting = self.spoiled()
        commands = {
            "samsa produce": [SAMSA, "produce", "--topic", "secure-cli-never", "--count", "1"],
            "samsa offsets": [SAMSA, "offsets", "--group", "g", "--topic", "t"],
            "samsa offsets reset": [SAMSA, "offsets", "reset", "--group", "g", "--topic", "t", "--to", "0"],
            "samsa consume": [SAMSA, "consume", "--topic", "t", "--until-end"],
            "app topics plan": [APP, "topics", "plan"],
            "app server": [APP, "server"],
        }
        # All at once: a command that waited for its request's timeout instead of the refusal
        # would still fail here, only later (within the 90 s each is given).
        env = dict(os.environ, SAMSA_LOG_LEVEL="warn")
        running = {name: subprocess.Popen([*argv, "--brokers", self.brokers, *set_args(props)], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for name, argv in commands.items()}
        for name, p in running.items():
            try:
                out, err = p.communicate(timeout=90)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                self.fail(f"{name} was still running after 90 s: a retry loop")
            with self.subTest(command=name):
                self.assertNotEqual(p.returncode, 0, out + err)
                if name == "app server":
                    self.assertEqual(p.returncode, 4, err)  # kExitFatal
                self.assertIn(setting, err, f"{name}: {err}")
                self.assertNotIn("not-the-password", out + err)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--samsa", required=True)
    ap.add_argument("--app", required=True)
    known, rest = ap.parse_known_args()
    SAMSA, APP = known.samsa, known.app
    unittest.main(argv=[sys.argv[0], *rest])
