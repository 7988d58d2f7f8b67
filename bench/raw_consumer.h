#pragma once
#ifdef __cplusplus
extern "C" {
#endif
/* Consumes `count` messages of `topic` from the start with group `group` (see
 * raw_consumer.c for `autostore`); returns 0 and the
 * seconds from the assignment to the last message, and the payload bytes. */
int raw_consume(const char* brokers, const char* topic, const char* group, long count, int autostore,
                double* seconds, long* bytes);
#ifdef __cplusplus
}
#endif
