#!/usr/bin/python3
"""Draws bench/results/librdkafka-VERSION/chart.png from its results.json: the rate of each
case as a ratio to the raw librdkafka loop of the same run, per topic. Runs with Debian's
python3-matplotlib."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

results = json.load(open(sys.argv[1]))
topics = results["topics"]
cases = [c for c in topics[0]["summary"] if c != "raw"]
width = 0.8 / len(cases)
fig, ax = plt.subplots(figsize=(12, 5))
for i, case in enumerate(cases):
    xs = [t + i * width for t in range(len(topics))]
    ax.bar(xs, [t["summary"][case]["ratio_to_raw"] for t in topics], width, label=case)
ax.axhline(1.0, color="black", linewidth=0.8)
ax.axhline(0.95, color="gray", linewidth=0.6, linestyle="--")
ax.set_xticks([t + 0.4 - width / 2 for t in range(len(topics))])
ax.set_xticklabels([f"{t['topic']}\n{t['messages']:,} x {t['message_bytes']} B" for t in topics])
ax.set_ylabel("rate / raw librdkafka rate (same run)")
ax.set_title(f"Samsa and peers vs a raw librdkafka loop, median of {results['reps']} runs")
ax.legend(ncol=4, fontsize=8)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
