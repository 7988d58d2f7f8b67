/* The baseline every Samsa figure is compared with: a plain librdkafka consumer loop in C.
 * Subscribes with a fresh group, polls message by message, and stops after `count`
 * messages. Without RAW_AUTOSTORE it has Samsa's librdkafka settings (enable.auto.offset.store
 * and enable.partition.eof off, Samsa's fetch-queue defaults) and stores nothing: the
 * ceiling of consumption with those settings. With RAW_AUTOSTORE it is the loop most users
 * write: librdkafka's defaults, which store every message's offset as it is polled
 * (at-most-once on a crash). RAW_NOWAIT_FIRST polls with timeout 0 before it waits, as
 * Samsa's listener does. Times from the assignment to the last message, as samsa-bench does,
 * so that the group join (the same protocol for both) is left out and the first fetch is in.
 * Each message is stamped with CLOCK_MONOTONIC_COARSE (a few ns, 1-4 ms resolution) to find
 * the idle gaps between messages; samsa-bench measures the same gaps between batches. */
#include "raw_consumer.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }

static double assigned_at = 0;

/* The rebalance callback every group consumer needs anyway; notes the first assignment. */
static void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                      void* opaque) {
  (void)opaque;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (assigned_at == 0) assigned_at = now_s();
    rd_kafka_assign(rk, parts);
  } else {
    rd_kafka_assign(rk, NULL);
  }
}

int raw_consume(const char* brokers, const char* topic, const char* group, long count, int flags,
                const char* const* props, raw_result* out) {
  const int autostore = flags & RAW_AUTOSTORE;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) ||
      rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) ||
      rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err) ||
      rd_kafka_conf_set(conf, "client.id", "raw-bench", err, sizeof err) ||
      rd_kafka_conf_set(conf, "enable.auto.offset.store", autostore ? "true" : "false", err, sizeof err) ||
      rd_kafka_conf_set(conf, "enable.partition.eof", "false", err, sizeof err) ||
      rd_kafka_conf_set(conf, "partition.assignment.strategy", "range,roundrobin", err, sizeof err)) {
    fprintf(stderr, "raw: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return -1;
  }
  /* Samsa's fetch-queue defaults (add_fetch_queue_defaults in src/settings.cpp), which the
   * raw-autostore loop, librdkafka's defaults, goes without; `props` can override them. */
  int queue_failed = 0;
  if (!autostore && rd_kafka_version() >= 0x02010000)
    queue_failed = rd_kafka_conf_set(conf, "fetch.queue.backoff.ms", "20", err, sizeof err) != RD_KAFKA_CONF_OK;
  else if (!autostore)
    queue_failed = rd_kafka_conf_set(conf, "queued.min.messages", "300000", err, sizeof err) != RD_KAFKA_CONF_OK ||
                   rd_kafka_conf_set(conf, "queued.max.messages.kbytes", "131072", err, sizeof err) != RD_KAFKA_CONF_OK;
  if (queue_failed) {
    fprintf(stderr, "raw: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return -1;
  }
  for (const char* const* kv = props; kv && kv[0] && kv[1]; kv += 2)
    if (rd_kafka_conf_set(conf, kv[0], kv[1], err, sizeof err)) {
      fprintf(stderr, "raw: %s\n", err);
      rd_kafka_conf_destroy(conf);
      return -1;
    }
  rd_kafka_conf_set_rebalance_cb(conf, rebalance);
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
  double last = 0;
  memset(out, 0, sizeof *out);
  while (seen < count) {
    rd_kafka_message_t* m = NULL;
    if (flags & RAW_NOWAIT_FIRST) m = rd_kafka_consumer_poll(rk, 0);
    if (!m) m = rd_kafka_consumer_poll(rk, 1000);
    if (!m) continue;
    if (!m->err) {
      const double t = clock_s(CLOCK_MONOTONIC_COARSE);
      if (last > 0 && t - last >= 0.010) {
        out->idle_s += t - last;
        if (t - last > out->max_gap_s) out->max_gap_s = t - last;
      }
      last = t;
      out->bytes += (long)m->len;
      ++seen;
    }
    rd_kafka_message_destroy(m);
  }
  out->seconds = now_s() - assigned_at;
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}
