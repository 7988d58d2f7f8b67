// The status page at /: one HTML document with its CSS and script inline (it works
// offline, behind any proxy), which reads /status.json every second and redraws without a
// page reload. Values are written with textContent, never as HTML: topic names and error
// texts come from users and brokers.
//
// Stable hooks for tests and scrapers: #app-state, #refreshes (a count of redraws),
// #updated, table#partitions with one tr[data-group][data-topic][data-partition] per
// assigned partition (cells td.consumed, .marked, .committed, .high, .lag, .state, .error),
// #rebalances li, #warnings li. Per group, after its div.group[data-group]: either
// table.members[data-group] with one tr[data-member] per member (cells td.member-id,
// .client-id, .host, .partitions: "topic/partition ..." sorted) and .group-state with
// the coordinator's state and when it was read, or p.members-unknown[data-group] reading
// "members unknown: <members_error>" (never an empty table for members nobody knows).
#include "ops/operations.hpp"

namespace samsa::ops {

const std::string& status_page_html() {
  static const std::string html = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Samsa status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
  h1 { font-size: 1.4em; margin: 0 0 .2em; }
  h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  .meta { color: #555; }
  .badge { display: inline-block; padding: .1em .6em; border-radius: 1em; font-weight: 600; color: #fff; }
  .ok { background: #2e7d32; } .bad { background: #c62828; } .warn { background: #ef6c00; } .idle { background: #607d8b; }
  table { border-collapse: collapse; background: #fff; min-width: 60%; }
  th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
  th { background: #eee; } td.text, th.text { text-align: left; }
  tr.paused td { background: #fff8e1; } tr.failing td { background: #ffebee; } tr.stuck td { background: #fce4ec; }
  ul { padding-left: 1.2em; } li { margin: .15em 0; }
  #error { color: #c62828; }
</style>
</head>
<body>
<h1>Samsa <span id="client-id"></span></h1>
<div class="meta">state <span id="app-state" class="badge idle">loading</span>
  live <span id="live" class="badge idle">?</span> ready <span id="ready" class="badge idle">?</span>
  &middot; samsa <span id="version"></span> on librdkafka <span id="librdkafka"></span>
  &middot; up <span id="uptime"></span> s &middot; updated <span id="updated">never</span>
  (<span id="refreshes">0</span> refreshes) <span id="error"></span></div>
<div id="groups"></div>
<h2>Partitions</h2>
<table id="partitions">
  <thead><tr><th class="text">group</th><th class="text">topic</th><th>partition</th><th class="text">owner</th>
    <th>consumed</th><th>marked</th><th>committed</th><th>high watermark</th><th>lag</th>
    <th class="text">state</th><th>messages</th><th class="text">last error</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Recent rebalances</h2>
<ul id="rebalances"></ul>
<h2>Warnings</h2>
<ul id="warnings"></ul>
<script>
"use strict";
let refreshes = 0;
const $ = (id) => document.getElementById(id);
function cell(tr, cls, text) {
  const td = document.createElement("td");
  td.className = cls;
  td.textContent = text === null || text === undefined ? "-" : String(text);
  tr.appendChild(td);
}
function badge(el, text, good) {
  el.textContent = text;
  el.className = "badge " + (good === null ? "idle" : good ? "ok" : "bad");
}
function stateOf(p) {
  if (p.stuck) return "stuck";
  if (p.paused) return "paused (" + p.pause_reason + ")" + (p.paused_lag_growing ? ", lag growing" : "");
  if (p.failures > 0) return "retrying (failure " + p.failures + ")";
  return "consuming";
}
function membersOf(g) {
  const box = document.createElement("div");
  box.className = "members-box";
  if (g.members === null || g.members === undefined) {
    const p = document.createElement("p");
    p.className = "members-unknown";
    p.dataset.group = g.name;
    p.textContent = "members unknown: " + g.members_error + (g.members_read_at ? " (read " + g.members_read_at + ")" : "");
    box.appendChild(p);
    return box;
  }
  const state = document.createElement("p");
  state.className = "group-state";
  state.textContent = "group state " + g.group_state + ", " + g.members.length +
    (g.members.length === 1 ? " member" : " members") + ", read " + g.members_read_at;
  box.appendChild(state);
  const table = document.createElement("table");
  table.className = "members";
  table.dataset.group = g.name;
  const head = document.createElement("tr");
  for (const h of ["member id", "client id", "host", "partitions"]) {
    const th = document.createElement("th");
    th.className = "text";
    th.textContent = h;
    head.appendChild(th);
  }
  table.appendChild(head);
  for (const m of g.members) {
    const tr = document.createElement("tr");
    tr.dataset.member = m.member_id;
    cell(tr, "text member-id", m.member_id); cell(tr, "text client-id", m.client_id); cell(tr, "text host", m.host);
    cell(tr, "text partitions", m.partitions.map((p) => p.topic + "/" + p.partition).join(" ") || "none");
    table.appendChild(tr);
  }
  box.appendChild(table);
  return box;
}
function render(s) {
  $("client-id").textContent = s.app.client_id;
  badge($("app-state"), s.app.state, s.app.state === "running" ? true : s.app.state === "starting" ? null : false);
  badge($("live"), s.app.live ? "yes" : "no", s.app.live);
  badge($("ready"), s.app.ready ? "yes" : "no", s.app.ready);
  $("version").textContent = s.app.samsa_version;
  $("librdkafka").textContent = s.app.librdkafka_version;
  $("uptime").textContent = Math.round(s.app.uptime_seconds);
  const groups = $("groups");
  groups.replaceChildren();
  const body = document.querySelector("#partitions tbody");
  const rows = [];
  const rebalances = [];
  for (const g of s.groups) {
    const div = document.createElement("div");
    div.className = "group";
    div.dataset.group = g.name;
    div.textContent = "consumer group " + g.name + ": member " + g.member + ", " + g.partitions.length +
      " partitions, " + g.rebalance_count + " rebalances" + (g.last_error ? ", last error: " + g.last_error : "");
    groups.appendChild(div);
    groups.appendChild(membersOf(g));
    for (const p of g.partitions) {
      const tr = document.createElement("tr");
      tr.dataset.group = g.name; tr.dataset.topic = p.topic; tr.dataset.partition = p.partition;
      if (p.stuck) tr.className = "stuck"; else if (p.paused) tr.className = "paused"; else if (p.failures > 0) tr.className = "failing";
      cell(tr, "text group", g.name); cell(tr, "text topic", p.topic); cell(tr, "partition", p.partition);
      cell(tr, "text owner", p.owner); cell(tr, "consumed", p.consumed); cell(tr, "marked", p.marked);
      cell(tr, "committed", p.committed); cell(tr, "high", p.high_watermark); cell(tr, "lag", p.lag);
      cell(tr, "text state", stateOf(p)); cell(tr, "messages", p.messages);
      cell(tr, "text error", p.last_error ? p.last_error_at + " " + p.last_error : "");
      rows.push(tr);
    }
    for (const r of g.rebalances) {
      const li = document.createElement("li");
      li.textContent = r.at + " " + g.name + " " + r.kind + " " + r.partitions + " (" + r.duration_ms.toFixed(1) + " ms)";
      rebalances.push(li);
    }
  }
  body.replaceChildren(...rows);
  $("rebalances").replaceChildren(...rebalances.slice(0, 20));
  const warnings = s.warnings.map((w) => {
    const li = document.createElement("li");
    li.dataset.kind = w.kind;
    li.textContent = w.at + " [" + w.kind + "] " + w.message;
    return li;
  });
  $("warnings").replaceChildren(...warnings);
  refreshes += 1;
  $("refreshes").textContent = refreshes;
  $("updated").textContent = new Date().toISOString();
  $("error").textContent = "";
}
async function refresh() {
  try {
    const r = await fetch("/status.json", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
  } catch (e) {
    $("error").textContent = "cannot read /status.json: " + e.message;
  } finally {
    setTimeout(refresh, 1000);
  }
}
refresh();
</script>
</body>
</html>
)HTML";
  return html;
}

}  // namespace samsa::ops
