#pragma once
#ifdef __cplusplus
extern "C" {
#endif
/* Consumes `count` messages of `topic` from the start with group `group`; returns 0 and the
 * seconds from the first to the last message, and the payload bytes. */
int raw_consume(const char* brokers, const char* topic, const char* group, long count,
                double* seconds, long* bytes);
#ifdef __cplusplus
}
#endif
