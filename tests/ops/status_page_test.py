#!/usr/bin/env python3
"""The status page (`server --metrics-port`) in headless Chromium.

Starts an embedded broker (`samsa broker`; $SAMSA_TEST_BROKERS instead when set), produces
known traffic, runs tests/ops/status_page_app (a retrying partition, a paused one, healthy
ones) with `server --metrics-port P --set lag_interval=1s`, opens http://127.0.0.1:P/ in
headless Chromium and drives it through the DevTools protocol. It checks:
  - the page loads nothing from another origin and throws no JS exception;
  - one row per partition, whose committed and lag cells equal /status.json and what the
    broker says (`samsa offsets`), and what the test produced;
  - the page redraws without a reload: a marker set in the document survives while new
    traffic reaches the cells, #refreshes grows, no second navigation;
  - the failing partition shows retrying/paused and its last error, the consumer-paused
    one its pause and the paused_lag_growing warning;
  - the group's members table equals /status.json's members (which own every partition),
    or, when the broker cannot describe the group, "members unknown: <members_error>"
    ($SAMSA_REQUIRE_REAL_KAFKA set: $SAMSA_TEST_BROKERS must be set and the members known);
  - a screenshot in ARTIFACTS/status-page.png (--docs-screenshot PATH: a copy there too).
Every process it starts runs in its own process group, killed in a finally block.

    tests/ops/status_page_test.py [--app BIN] [--samsa BIN] [--artifacts DIR]
                                  [--require-chromium] [--docs-screenshot PATH]

Without Chromium (or the websocket module) it skips, unless --require-chromium (ctest
passes it: under make test a missing browser is a failure). Python 3 standard library plus
websocket-client (Debian's python3-websocket).
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

try:
    import websocket
except ImportError:
    # scripts/install-deps installs Debian's python3-websocket (pure Python) for the system
    # python3; the python3 CMake found may be another one (pyenv, a venv): look there too.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import websocket
    except ImportError:  # reported by main(): a skip or a failure, as for a missing Chromium
        websocket = None

ROOT = Path(__file__).resolve().parents[2]

# Short sessions so that the member joins at once on the embedded broker, a short back-off
# so that the poison partition is retried several times while the test runs.
APP_SETTINGS = ["--set", "lag_interval=1s", "--set", "kafka.session.timeout.ms=6000",
                "--set", "kafka.heartbeat.interval.ms=500", "--set", "pause_timeout=300ms",
                "--set", "pause_max_timeout=1s"]
CELLS = ["consumed", "marked", "committed", "high", "lag", "state", "error"]

# Everything the test reads from the page, in one evaluation (so that the values are of
# one redraw).
READ_PAGE = """(() => {
  const text = (el) => el ? el.textContent : null;
  return {
    state: text(document.querySelector('#app-state')),
    refreshes: Number(text(document.querySelector('#refreshes'))),
    updated: text(document.querySelector('#updated')),
    error: text(document.querySelector('#error')),
    marker: window.__samsaMarker === undefined ? null : window.__samsaMarker,
    rows: [...document.querySelectorAll('table#partitions tbody tr')].map((tr) => ({
      group: tr.dataset.group, topic: tr.dataset.topic, partition: Number(tr.dataset.partition),
      cells: Object.fromEntries(%s.map((c) => [c, text(tr.querySelector('td.' + c))])),
    })),
    rebalances: [...document.querySelectorAll('#rebalances li')].map((li) => li.textContent),
    warnings: [...document.querySelectorAll('#warnings li')].map((li) => ({kind: li.dataset.kind, text: li.textContent})),
    members: [...document.querySelectorAll('table.members')].map((t) => ({
      group: t.dataset.group,
      rows: [...t.querySelectorAll('tr[data-member]')].map((tr) => [
        tr.dataset.member, text(tr.querySelector('td.client-id')), text(tr.querySelector('td.host')),
        text(tr.querySelector('td.partitions'))]),
    })),
    membersUnknown: [...document.querySelectorAll('p.members-unknown')].map((p) => ({group: p.dataset.group, text: p.textContent})),
  };
})()""" % json.dumps(CELLS)


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def wait_for(condition, timeout, step=0.25):
    """Polls condition() until it returns something true or `timeout` seconds passed;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def free_port():
    # The app takes a fixed port (metrics_port 0 means no server); the window between
    # closing this socket and the app binding it is small, and a clash fails loudly.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def find_chromium():
    for candidate in [os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"]:
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


class Processes:
    """Children in their own process groups (Chromium forks renderers and helpers), so that
    stopping one stops all it started."""

    def __init__(self, directory):
        self.directory = directory
        self.running = []

    def start(self, name, cmd, env=None):
        log = self.directory / f"{name}.log"
        out = open(log, "w")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
        self.running.append((name, proc, out))
        return proc, log

    @staticmethod
    def stop(proc, grace=10):
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # Whatever of the group is left (the leader did not stop in time, or a helper it
        # forked outlived it).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        # The helpers the leader forked are reaped by init once they die: wait for that, so
        # that nothing of this test outlives it.
        wait_for(lambda: not group_alive(proc.pid), 5, step=0.05)

    def stop_all(self):
        while self.running:
            name, proc, out = self.running.pop()
            started = time.monotonic()
            self.stop(proc)
            out.close()
            print(f"stopped {name} (exit {proc.returncode}) in {time.monotonic() - started:.1f} s")


class DevTools:
    """A minimal DevTools protocol client: one browser connection, one page session
    (flattened), the events kept in order of arrival."""

    def __init__(self, url):
        # Chromium refuses websocket connections that carry an Origin it does not allow.
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.session = None

    def close(self):
        self.ws.close()

    def _receive(self, deadline):
        self.ws.settimeout(max(0.05, deadline - time.monotonic()))
        return json.loads(self.ws.recv())

    def call(self, method, params=None, timeout=30, browser=False):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not browser:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._receive(deadline)
            except websocket.WebSocketTimeoutException:
                raise Failure(f"DevTools: no answer to {method} within {timeout} s")
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise Failure(f"DevTools: {method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds):
        """Reads the events that arrive within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                reply = self._receive(deadline)
            except websocket.WebSocketTimeoutException:
                return
            if "method" in reply:
                self.events.append(reply)

    def of(self, method):
        return [e["params"] for e in self.events if e["method"] == method]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise Failure(f"evaluating {expression[:60]!r}: {result['exceptionDetails']}")
        return result["result"].get("value")


class StatusPageTest:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.procs = Processes(tmp)
        self.devtools = None
        self.logs = []
        # Set by the kafka.status_page test: a real broker, which can describe its groups.
        self.real_kafka = bool(os.environ.get("SAMSA_REQUIRE_REAL_KAFKA"))

    # -- the pieces ----------------------------------------------------------------------

    def samsa(self, *args):
        done = subprocess.run([str(self.args.samsa), *args], capture_output=True, text=True, timeout=60)
        check(done.returncode == 0, f"samsa {' '.join(args)}: exit {done.returncode}: {done.stderr}")
        return done.stdout

    def produce(self, topic, first, count, payload=None):
        # Event id N goes to partition N % partitions (samsa produce keys and spreads so).
        extra = ["--payload", payload] if payload is not None else []
        self.samsa("produce", "--brokers", self.brokers, "--topic", topic, "--partitions",
                   str(self.partitions[topic]), "--first", str(first), "--count", str(count), *extra)
        for i in range(first, first + count):
            key = (topic, i % self.partitions[topic])
            self.end[key] = self.end.get(key, 0) + 1

    def broker_offsets(self):
        """{(topic, partition): (committed or None, end, lag or None)} from the broker."""
        out = self.samsa("offsets", "--brokers", self.brokers, "--group", self.group,
                         *[a for t in self.partitions for a in ("--topic", t)])
        rows = {}
        for line in out.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 5 or not fields[1].isdigit():
                continue
            num = lambda v: None if v == "-" else int(v)
            rows[(fields[0], int(fields[1]))] = (num(fields[2]), int(fields[3]), num(fields[4]))
        return rows

    def status_json(self):
        with urllib.request.urlopen(self.base + "/status.json", timeout=5) as r:
            return json.load(r)

    def json_partitions(self, status):
        return {(p["topic"], p["partition"]): p for g in status["groups"] if g["name"] == self.group
                for p in g["partitions"]}

    def page(self):
        return self.devtools.evaluate(READ_PAGE)

    @staticmethod
    def page_rows(page):
        return {(r["topic"], r["partition"]): r for r in page["rows"]}

    @staticmethod
    def number(cell):
        return None if cell in (None, "-") else int(cell)

    def screenshot(self, path):
        # The whole page, not the 1400x800 viewport: with a members table the rebalances
        # and warnings are below the fold.
        size = self.devtools.call("Page.getLayoutMetrics")
        size = size.get("cssContentSize") or size["contentSize"]
        clip = {"x": 0, "y": 0, "width": 1400, "height": max(800, int(size["height"])), "scale": 1}
        data = self.devtools.call("Page.captureScreenshot",
                                  {"format": "png", "clip": clip, "captureBeyondViewport": True})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        print(f"screenshot: {path}")

    # -- starting ------------------------------------------------------------------------

    def start_broker(self):
        shared = os.environ.get("SAMSA_TEST_BROKERS")
        check(not self.real_kafka or shared,
              "SAMSA_REQUIRE_REAL_KAFKA is set but SAMSA_TEST_BROKERS is not: start a broker "
              "(scripts/kafka-local start) and export its address")
        if shared:
            # A shared broker keeps topics and offsets: the names have a suffix of this run.
            self.brokers = shared
            return
        # librdkafka 2.0.2's mock broker has no CreateTopics: the topics are made here.
        topics = [a for t in self.partitions for a in ("--topic", t)]
        _, log = self.procs.start("broker", [str(self.args.samsa), "broker", "--partitions", "3", *topics])
        self.logs.append(log)
        line = wait_for(lambda: re.search(r"^bootstrap: (\S+)$", log.read_text(), re.M), 15)
        check(line, "the embedded broker did not print its address")
        self.brokers = line.group(1)

    def start_app(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, SAMSA_STATUS_PAGE_SUFFIX=self.suffix, SAMSA_LOG_LEVEL="info")
        self.app, log = self.procs.start(
            "status_page_app", [str(self.args.app), "server", "--brokers", self.brokers,
                                "--metrics-port", str(self.port), "--log-format", "json", *APP_SETTINGS],
            env=env)
        self.logs.append(log)
        self.app_log = log

        def assigned():
            check(self.app.poll() is None, f"status_page_app exited ({self.app.returncode})")
            try:
                return len(self.json_partitions(self.status_json())) == sum(self.partitions.values())
            except OSError:
                return False
        check(wait_for(assigned, 60), f"the app did not get its {sum(self.partitions.values())} partitions")

    def start_chromium(self):
        profile = self.tmp / "chromium-profile"
        profile.mkdir()
        self.chromium, log = self.procs.start("chromium", [
            self.args.chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-extensions", "--hide-scrollbars", "--window-size=1400,800",
            "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"])
        self.logs.append(log)
        active = profile / "DevToolsActivePort"

        def endpoint():
            check(self.chromium.poll() is None, f"chromium exited ({self.chromium.returncode})")
            lines = active.read_text().split("\n") if active.exists() else []
            return lines if len(lines) >= 2 and lines[0].isdigit() and lines[1] else None
        lines = wait_for(endpoint, 30)
        check(lines, "chromium did not write DevToolsActivePort")
        self.devtools = DevTools(f"ws://127.0.0.1:{lines[0]}{lines[1]}")
        target = self.devtools.call("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self.devtools.session = self.devtools.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}, browser=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self.devtools.call(f"{domain}.enable")
        self.devtools.call("Emulation.setDeviceMetricsOverride",
                           {"width": 1400, "height": 800, "deviceScaleFactor": 1, "mobile": False})

    # -- the checks ----------------------------------------------------------------------

    def settled(self, expected_committed):
        """Polls until the page, /status.json and the broker agree on every partition's
        committed offset and lag, and those are the expected ones; fails naming the last
        difference."""
        last = []

        def agree():
            last.clear()
            page, status, broker = self.page(), self.status_json(), self.broker_offsets()
            rows, parts = self.page_rows(page), self.json_partitions(status)
            for key, committed in expected_committed.items():
                end = self.end.get(key, 0)
                want = (committed, end - committed, end)
                row, part = rows.get(key), parts.get(key)
                if row is None or part is None or key not in broker:
                    last.append(f"{key}: page row {row is not None}, json {part is not None}, broker {key in broker}")
                    continue
                c = row["cells"]
                got_page = (self.number(c["committed"]), self.number(c["lag"]), self.number(c["high"]))
                got_json = (part["committed"], part["lag"], part["high_watermark"])
                b_committed, b_end, b_lag = broker[key]
                got_broker = (b_committed, b_lag, b_end)
                if not got_page == got_json == got_broker == want:
                    last.append(f"{key} (committed, lag, high): page {got_page}, /status.json {got_json}, "
                                f"broker {got_broker}, expected {want}")
            return None if last else (page, status)
        result = wait_for(agree, 60, step=0.5)
        check(result, "page, /status.json and broker do not agree:\n  " + "\n  ".join(last))
        return result

    def run(self):
        self.suffix = "_" + uuid.uuid4().hex[:8] if os.environ.get("SAMSA_TEST_BROKERS") else ""
        orders, audit = "orders" + self.suffix, "audit" + self.suffix
        self.group = "status_page" + self.suffix
        self.partitions = {orders: 3, audit: 3}  # as routed in status_page_app.cpp
        self.end = {}
        self.start_broker()

        # The topics exist (made by the broker, or by samsa produce on real Kafka) before the
        # app subscribes: a subscription would auto-create them with 4 partitions. orders:
        # 100 good events per partition, a poison one at orders/1 offset 100, then 10 good
        # ones per partition. audit: 50 per partition, a hold at audit/0 offset 50, then 10
        # per partition.
        self.produce(orders, 0, 300)
        self.produce(orders, 301, 1, payload='{"id":301,"poison":true}')
        self.produce(orders, 300, 30)
        self.produce(audit, 0, 150)
        self.produce(audit, 150, 1, payload='{"id":150,"hold":true}')
        self.produce(audit, 150, 30)
        expected = {(orders, 0): 110, (orders, 1): 100, (orders, 2): 110,
                    (audit, 0): 50, (audit, 1): 60, (audit, 2): 60}

        self.start_app()
        self.start_chromium()
        self.devtools.call("Page.navigate", {"url": self.base + "/"})
        check(wait_for(lambda: self.devtools.pump(0.2) or self.devtools.of("Page.loadEventFired"), 30),
              "the page did not load")

        page, status = self.settled(expected)
        rows = self.page_rows(page)
        check(sorted(rows) == sorted(expected), f"rows {sorted(rows)}, expected one per partition {sorted(expected)}")
        check(all(r["group"] == self.group for r in page["rows"]), f"a row of another group: {page['rows']}")
        check(page["state"] == "running", f"#app-state is {page['state']!r}")
        check(page["error"] == "", f"#error says {page['error']!r}")
        check(page["rebalances"], "no rebalance listed (the assignment is one)")

        # The poison partition: retrying or paused in its back-off, with its last error.
        poison = rows[(orders, 1)]["cells"]
        check(re.search(r"retrying|paused", poison["state"]), f"orders/1 state {poison['state']!r}")
        check("poison order at offset 100" in poison["error"], f"orders/1 error {poison['error']!r}")
        check(poison["error"].endswith(self.json_partitions(status)[(orders, 1)]["last_error"]),
              f"orders/1 error {poison['error']!r} is not the one of /status.json")
        held = rows[(audit, 0)]["cells"]
        check("paused" in held["state"], f"audit/0 (paused by its consumer) state {held['state']!r}")
        for key in [(orders, 0), (orders, 2), (audit, 1), (audit, 2)]:
            check(rows[key]["cells"]["state"] == "consuming", f"{key} state {rows[key]['cells']['state']!r}")
            check(rows[key]["cells"]["error"] == "", f"{key} error {rows[key]['cells']['error']!r}")

        self.check_members(expected)

        # Live refresh: a marker in the document, more traffic, the cells follow without a
        # reload. The held partition gets a message every half second (more often than the
        # lag readings) until the page warns that its lag keeps growing while paused.
        self.devtools.evaluate("window.__samsaMarker = 42")
        before = self.page()["refreshes"]
        self.produce(orders, 330, 30)
        expected.update({(orders, 0): 120, (orders, 2): 120})

        def new_values_shown():
            cells = self.page_rows(self.page())
            return all(self.number(cells[k]["cells"]["committed"]) == expected[k] for k in [(orders, 0), (orders, 2)])
        check(wait_for(new_values_shown, 60, step=0.5), "the committed cells did not change to the new offsets")
        next_id = 300

        def lag_growing_warned():
            nonlocal next_id
            self.produce(audit, next_id, 1)  # a multiple of 3: audit/0
            next_id += 3
            return any(w["kind"] == "paused_lag_growing" for w in self.page()["warnings"])
        check(wait_for(lag_growing_warned, 40, step=0.5), "no paused_lag_growing warning for audit/0")

        page, status = self.settled(expected)
        check(page["marker"] == 42, f"window.__samsaMarker is {page['marker']!r}: the page was reloaded")
        check(page["refreshes"] > before, f"#refreshes {page['refreshes']}, was {before}")
        navigations = [f for f in self.devtools.of("Page.frameNavigated") if not f["frame"].get("parentId")]
        check(len(navigations) == 1, f"{len(navigations)} navigations of the page: {[f['frame']['url'] for f in navigations]}")
        kinds = sorted(w["kind"] for w in page["warnings"])
        check(kinds == sorted(w["kind"] for w in status["warnings"]),
              f"#warnings {kinds}, /status.json {[w['kind'] for w in status['warnings']]}")
        held = self.page_rows(page)[(audit, 0)]["cells"]
        check("lag growing" in held["state"], f"audit/0 state {held['state']!r}")

        self.screenshot(self.args.artifacts / "status-page.png")
        if self.args.docs_screenshot:
            shutil.copyfile(self.args.artifacts / "status-page.png", self.args.docs_screenshot)
            print(f"screenshot: {self.args.docs_screenshot}")

        # After everything the page did: same origin only, no exception.
        self.devtools.pump(0.5)
        origin = urllib.parse.urlsplit(self.base)
        urls = [r["request"]["url"] for r in self.devtools.of("Network.requestWillBeSent")]
        check(any(urllib.parse.urlsplit(u).path == "/status.json" for u in urls), f"no /status.json request seen: {urls[:5]}")
        foreign = sorted({u for u in urls if urllib.parse.urlsplit(u)[:2] != origin[:2]})
        check(not foreign, f"requests to other origins: {foreign}")
        exceptions = self.devtools.of("Runtime.exceptionThrown")
        check(not exceptions, f"JS exceptions: {[e['exceptionDetails'] for e in exceptions]}")
        lines = self.check_json_log(orders)
        print(f"ok: {len(expected)} partitions, {len(urls)} requests all to {self.base}, "
              f"{page['refreshes']} refreshes, warnings {kinds}, {lines} JSON log lines")

    def check_json_log(self, orders):
        """The app ran with --log-format json: every line it wrote is one JSON object, and the
        poison partition's back-off names its group, topic, partition and offset as fields."""
        entries = []
        for n, line in enumerate(self.app_log.read_text(errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                raise Failure(f"{self.app_log.name} line {n} is not JSON: {line[:200]!r}")
            check(isinstance(entry, dict) and {"ts", "level", "thread", "message"} <= entry.keys(),
                  f"{self.app_log.name} line {n} lacks ts/level/thread/message: {line[:200]!r}")
            entries.append(entry)
        backoff = [e for e in entries if "then resumes from offset 100" in e["message"]]
        check(backoff, "no back-off line for the poison message at offset 100")
        fields = {k: backoff[0].get(k) for k in ("group", "topic", "partition", "offset")}
        want = {"group": self.group, "topic": orders, "partition": 1, "offset": 100}
        check(fields == want, f"the back-off line's fields are {fields}, not {want}")
        return len(entries)

    def check_members(self, expected):
        """The group's members on the page are /status.json's: a members table (every
        partition owned by one of them) or, when the broker cannot describe the group (the
        embedded broker of librdkafka 2.0.2), "members unknown: <members_error>"."""
        last = []

        def shown():
            page, status = self.page(), self.status_json()
            group = next(g for g in status["groups"] if g["name"] == self.group)
            tables = [t["rows"] for t in page["members"] if t["group"] == self.group]
            unknown = [u["text"] for u in page["membersUnknown"] if u["group"] == self.group]
            last[:] = [f"/status.json members {group['members']!r} error {group['members_error']!r}, "
                       f"page tables {tables!r} unknown {unknown!r}"]
            if group["members"] is None:
                check(group["members_error"], "/status.json: members null without members_error")
                if self.real_kafka and group["members_error"] != "not read yet":
                    raise Failure("real Kafka describes its groups, but the members are unknown: "
                                  + group["members_error"])
                return (not tables and len(unknown) == 1 and group["members_error"] != "not read yet"
                        and unknown[0].startswith("members unknown: " + group["members_error"]))
            rows = sorted([m["member_id"], m["client_id"], m["host"],
                           " ".join(f"{p['topic']}/{p['partition']}" for p in m["partitions"]) or "none"]
                          for m in group["members"])
            owned = sorted((p["topic"], p["partition"]) for m in group["members"] for p in m["partitions"])
            last.append(f"members own {owned}, expected {sorted(expected)}")
            return (owned == sorted(expected) and not unknown and len(tables) == 1
                    and sorted(tables[0]) == rows)

        check(wait_for(shown, 30, step=0.5), "the page's members are not /status.json's: " + "; ".join(last))
        print("members: " + last[0])

    def show_logs(self):
        for log in self.logs:
            if log.exists():
                # Chromium in a container complains about the missing D-Bus at length.
                lines = [l for l in log.read_text(errors="replace").splitlines() if "dbus" not in l]
                print(f"--- last lines of {log.name} ---", *lines[-30:], sep="\n")

    def cleanup(self):
        if self.devtools:
            try:
                self.devtools.close()
            except Exception:
                pass
        self.procs.stop_all()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app", type=Path, default=ROOT / "build/bin/status_page_app")
    parser.add_argument("--samsa", type=Path, default=ROOT / "build/bin/samsa")
    parser.add_argument("--artifacts", type=Path, default=ROOT / "build/artifacts")
    parser.add_argument("--chromium", default=find_chromium())
    parser.add_argument("--require-chromium", action="store_true",
                        help="fail (instead of skipping) when Chromium or the websocket module is missing")
    parser.add_argument("--docs-screenshot", type=Path, help="also copy the screenshot here")
    args = parser.parse_args()

    missing = [what for what, ok in [("chromium (apt-get install chromium)", args.chromium),
                                     ("the websocket module (apt-get install python3-websocket)", websocket)]
               if not ok]
    if missing:
        if args.require_chromium:
            print(f"FAILED: missing {', '.join(missing)} (scripts/install-deps installs them)", file=sys.stderr)
            return 1
        print(f"skipped: missing {', '.join(missing)}")
        return 0

    # ctest's timeout and Ctrl-C: leave through the finally below, which stops the children.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="status_page_test."))
    test = StatusPageTest(args, tmp)
    try:
        test.run()
        print(f"passed in {time.monotonic() - started:.1f} s")
        return 0
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        if test.devtools:
            try:
                test.screenshot(args.artifacts / "status-page-failure.png")
            except Exception as shot:
                print(f"(no failure screenshot: {shot})", file=sys.stderr)
        test.show_logs()
        return 1
    finally:
        test.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
