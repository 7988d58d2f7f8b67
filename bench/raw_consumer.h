#pragma once
#ifdef __cplusplus
extern "C" {
#endif
/* What one raw run measured: the seconds from the assignment to the last message, the payload
 * bytes, and the idle time between two messages after the first one: the longest gap and the
 * sum of the gaps of at least 10 ms (a fetch-queue stall shows up here). */
typedef struct {
  double seconds;
  long bytes;
  double max_gap_s;
  double idle_s;
} raw_result;

/* The loop's variants (raw_consume's `flags`): RAW_AUTOSTORE, librdkafka's default
 * per-message offset store (see raw_consumer.c); RAW_NOWAIT_FIRST, each message is first
 * polled with timeout 0 and only an empty queue is waited on (1,000 ms), the pattern of
 * Samsa's listener, against the plain loop's rd_kafka_consumer_poll(rk, 1000) every time. */
enum { RAW_AUTOSTORE = 1, RAW_NOWAIT_FIRST = 2 };

/* Consumes `count` messages of `topic` from the start with group `group`. `props` is NULL or a NULL-terminated list of librdkafka
 * property names and values (name, value, name, value, ..., NULL), set after the loop's own
 * settings. Returns 0 and fills `out`. */
int raw_consume(const char* brokers, const char* topic, const char* group, long count, int flags,
                const char* const* props, raw_result* out);
#ifdef __cplusplus
}
#endif
