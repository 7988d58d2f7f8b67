#pragma once
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
/* What one raw run measured: the seconds from the assignment to the last message, the payload
 * bytes, the checksum of every payload byte (bench_checksum), and the idle time between two
 * messages after the first one: the longest gap and the sum of the gaps of at least 10 ms (a
 * fetch-queue stall shows up here). */
typedef struct {
  double seconds;
  long bytes;
  uint64_t checksum;
  double max_gap_s;
  double idle_s;
  double assigned_at;      /* CLOCK_MONOTONIC seconds at the first assignment */
  double first_message_at; /* CLOCK_MONOTONIC seconds when the first message was taken */
  long latencies;          /* how many latencies were written to raw_options.latency_ms */
} raw_result;

/* raw_consume's optional inputs (NULL, or any field zero: none). `props`: a NULL-terminated
 * list of librdkafka property names and values (name, value, name, value, ..., NULL), set
 * after the loop's own settings. `latency_ms`: room for `count` doubles, each message's
 * latency in ms (CLOCK_REALTIME when it is taken minus its rd_kafka_message_timestamp).
 * `on_assigned`: called once, at the group's first assignment. */
typedef struct {
  const char* const* props;
  double* latency_ms;
  void (*on_assigned)(void);
} raw_options;

/* The loop's variants (raw_consume's `flags`): RAW_AUTOSTORE, librdkafka's default
 * per-message offset store (see raw_consumer.c); RAW_NOWAIT_FIRST, each message is first
 * polled with timeout 0 and only an empty queue is waited on (1,000 ms), the pattern of
 * Samsa's listener, against the plain loop's rd_kafka_consumer_poll(rk, 1000) every time;
 * RAW_BATCH, the consumer queue drained with rd_kafka_consume_batch_queue (timeout 0, up to
 * RAW_BATCH_SIZE messages a call), waiting (rd_kafka_consumer_poll, 100 ms) only when it
 * returned nothing: the cheapest way librdkafka hands out messages, the ceiling. RAW_HANDOFF,
 * RAW_BATCH's drain on one thread and the payloads read and messages destroyed on a second
 * (each batch handed over whole): the floor of any design where the thread that polls is not
 * the thread that consumes. */
enum { RAW_AUTOSTORE = 1, RAW_NOWAIT_FIRST = 2, RAW_BATCH = 4, RAW_HANDOFF = 8 };
enum { RAW_BATCH_SIZE = 1000 };

/* Adds `len` bytes at `data` to `sum`: the wrapping sum of their 8-byte words (the last
 * partial word zero-padded). Reads every byte, costs about a cycle per word, and does not
 * depend on the order of the messages, so two loops that consumed the same whole topic report
 * the same checksum. Samsa's bench consumers use it too. */
uint64_t bench_checksum(uint64_t sum, const void* data, size_t len);

/* Consumes `count` messages of `topic` from the start with group `group`, with `opts` (NULL
 * or see raw_options). Returns 0 and fills `out`. */
int raw_consume(const char* brokers, const char* topic, const char* group, long count, int flags,
                const raw_options* opts, raw_result* out);

/* CLOCK_REALTIME in ms since the epoch (fractional), the clock of a message's CreateTime: a
 * message's latency is bench_wall_ms() when it is taken minus rd_kafka_message_timestamp (whole
 * ms, so the figure is up to 1 ms above the true one). Samsa's bench consumers use it too. */
double bench_wall_ms(void);
#ifdef __cplusplus
}
#endif
