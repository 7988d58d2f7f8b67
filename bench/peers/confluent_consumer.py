"""confluent-consumer: the confluent-kafka-python peer of bench/run.py (case python). Consumes N
messages of a topic from the start with a fresh consumer group and Samsa's librdkafka settings,
like samsa-bench's raw loop (no offset stores, no partition EOF, Samsa's fetch-queue defaults
for the librdkafka the wheel bundles), in batches of up to 1,000 (Consumer.consume, the
client's fastest path); reads every payload byte with the checksum of bench_checksum
(bench/raw_consumer.h); timed from the group's first assignment to the N-th message.

  python confluent_consumer.py --brokers B --topic T --messages N

The last line is `python N messages in S s: R msg/s`; the line before it a JSON object with the
same figures, the payload bytes, the checksum and the client's and librdkafka's versions.
"""
import argparse
import json
import random
import sys
import time

import confluent_kafka

MASK = (1 << 64) - 1


def checksum(total, payload):
    """bench_checksum: adds the little-endian 8-byte words of payload (zero-padded) to total."""
    pad = -len(payload) % 8
    return (total + sum(memoryview(payload + b"\0" * pad if pad else payload).cast("Q"))) & MASK


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--messages", type=int, required=True)
    args = ap.parse_args()
    librdkafka = confluent_kafka.libversion()
    conf = {"bootstrap.servers": args.brokers, "group.id": f"bench-python-{random.getrandbits(48)}",
            "auto.offset.reset": "earliest", "client.id": "python-bench", "enable.auto.offset.store": False,
            "enable.partition.eof": False, "partition.assignment.strategy": "range,roundrobin"}
    # Samsa's fetch-queue defaults (as bench/raw_consumer.c sets them).
    if librdkafka[1] >= 0x02010000:
        conf["fetch.queue.backoff.ms"] = 20
    else:
        conf.update({"queued.min.messages": 300000, "queued.max.messages.kbytes": 131072})
    assigned = []

    def on_assign(consumer, partitions):
        if not assigned:
            assigned.append(time.monotonic())

    c = confluent_kafka.Consumer(conf)
    c.subscribe([args.topic], on_assign=on_assign)
    seen = size = total = 0
    while seen < args.messages:
        for m in c.consume(num_messages=min(1000, args.messages - seen), timeout=1.0):
            if m.error():
                print(f"python: {m.error()}", file=sys.stderr)
                continue
            payload = m.value()
            if payload:
                total = checksum(total, payload)
                size += len(payload)
            seen += 1
    seconds = time.monotonic() - assigned[0]
    c.close()
    rate = seen / seconds
    print(json.dumps(dict(mode="python", messages=seen, seconds=seconds, msg_per_s=rate, mb_per_s=size / 1e6 / seconds,
                          bytes=size, checksum=f"{total:016x}",
                          client=f"confluent-kafka {confluent_kafka.__version__}, librdkafka {librdkafka[0]}")))
    print(f"python {seen} messages in {seconds:.3f} s: {rate:.0f} msg/s")


if __name__ == "__main__":
    main()
