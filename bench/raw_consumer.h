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

/* Consumes `count` messages of `topic` from the start with group `group` (see
 * raw_consumer.c for `autostore`). `props` is NULL or a NULL-terminated list of librdkafka
 * property names and values (name, value, name, value, ..., NULL), set after the loop's own
 * settings. Returns 0 and fills `out`. */
int raw_consume(const char* brokers, const char* topic, const char* group, long count, int autostore,
                const char* const* props, raw_result* out);
#ifdef __cplusplus
}
#endif
