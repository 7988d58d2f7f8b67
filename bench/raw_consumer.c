/* The baseline every Samsa figure is compared with: a plain librdkafka consumer loop in C,
 * as a careful librdkafka user writes it. Subscribes with a fresh group, polls message by
 * message, lets librdkafka store and auto-commit offsets (its defaults), and stops after
 * `count` messages. Times from the first message to the last. */
#include "raw_consumer.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int raw_consume(const char* brokers, const char* topic, const char* group, long count,
                double* seconds, long* bytes) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) ||
      rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) ||
      rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err) ||
      rd_kafka_conf_set(conf, "client.id", "raw-bench", err, sizeof err)) {
    fprintf(stderr, "raw: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return -1;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "raw: %s\n", err);
    return -1;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);

  long seen = 0;
  double first = 0;
  *bytes = 0;
  while (seen < count) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 1000);
    if (!m) continue;
    if (!m->err) {
      if (seen == 0) first = now_s();
      *bytes += (long)m->len;
      ++seen;
    }
    rd_kafka_message_destroy(m);
  }
  *seconds = now_s() - first;
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}
