/* The baseline every Samsa figure is compared with: a plain librdkafka consumer loop in C.
 * Subscribes with a fresh group, polls message by message, and stops after `count`
 * messages. Without RAW_AUTOSTORE it has Samsa's librdkafka settings (enable.auto.offset.store
 * and enable.partition.eof off, Samsa's fetch-queue defaults) and stores nothing: the
 * ceiling of consumption with those settings. With RAW_AUTOSTORE it is the loop most users
 * write: librdkafka's defaults, which store every message's offset as it is polled
 * (at-most-once on a crash). RAW_NOWAIT_FIRST polls with timeout 0 before it waits, as
 * Samsa's listener does. RAW_BATCH drains the consumer queue with
 * rd_kafka_consume_batch_queue instead (Samsa's settings too): the honest ceiling. Every
 * variant reads every payload byte (bench_checksum), as Samsa's bench consumers do. Times
 * from the assignment to the last message, as samsa-bench does,
 * so that the group join (the same protocol for both) is left out and the first fetch is in.
 * Each message is stamped with CLOCK_MONOTONIC_COARSE (a few ns, 1-4 ms resolution) to find
 * the idle gaps between messages; samsa-bench measures the same gaps between batches. It also
 * notes when the first message came and, with raw_options.latency_ms, each message's latency
 * (bench_wall_ms() minus its timestamp) as it is taken. */
#include "raw_consumer.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/types.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }

double bench_wall_ms(void) { return clock_s(CLOCK_REALTIME) * 1000; }

static double assigned_at = 0;
static void (*on_assigned)(void) = NULL;
static double* latency_ms = NULL;

uint64_t bench_checksum(uint64_t sum, const void* data, size_t len) {
  const unsigned char* p = (const unsigned char*)data;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    memcpy(&word, p + i, 8);
    sum += word;
  }
  if (i < len) {
    uint64_t word = 0;
    memcpy(&word, p + i, len - i);
    sum += word;
  }
  return sum;
}

/* Counts one message (or skips an error) into `out`; destroys it. */
static void take(rd_kafka_message_t* m, raw_result* out, long* seen, double* last) {
  if (!m->err) {
    if (latency_ms) {
      rd_kafka_timestamp_type_t type;
      latency_ms[out->latencies++] = bench_wall_ms() - (double)rd_kafka_message_timestamp(m, &type);
    }
    if (*seen == 0) out->first_message_at = now_s();
    const double t = clock_s(CLOCK_MONOTONIC_COARSE);
    if (*last > 0 && t - *last >= 0.010) {
      out->idle_s += t - *last;
      if (t - *last > out->max_gap_s) out->max_gap_s = t - *last;
    }
    *last = t;
    out->bytes += (long)m->len;
    if (m->payload) out->checksum = bench_checksum(out->checksum, m->payload, m->len);
    ++*seen;
  }
  rd_kafka_message_destroy(m);
}

/* The rebalance callback every group consumer needs anyway; notes the first assignment. */
static void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                      void* opaque) {
  (void)opaque;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (assigned_at == 0) {
      assigned_at = now_s();
      if (on_assigned) on_assigned();
    }
    rd_kafka_assign(rk, parts);
  } else {
    rd_kafka_assign(rk, NULL);
  }
}

/* RAW_HANDOFF: the raw loop split over two threads, the least any listener-and-workers design
 * does. The polling thread drains batches as RAW_BATCH does and hands each whole batch (its
 * message pointers, no copy) to one worker thread through a mutex and condition variable;
 * the worker reads every payload byte and destroys the messages. Up to HANDOFF_SLOTS batches
 * wait between them. */
enum { HANDOFF_SLOTS = 8 };
typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  rd_kafka_message_t* slots[HANDOFF_SLOTS][RAW_BATCH_SIZE];
  size_t sizes[HANDOFF_SLOTS];
  int head, used, done;
  raw_result* out;
  long seen;
  double last;
} handoff;

static void* handoff_worker(void* arg) {
  handoff* h = (handoff*)arg;
  pthread_mutex_lock(&h->lock);
  for (;;) {
    while (h->used == 0 && !h->done) pthread_cond_wait(&h->changed, &h->lock);
    if (h->used == 0) break;
    const int slot = h->head;
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < h->sizes[slot]; ++i) take(h->slots[slot][i], h->out, &h->seen, &h->last);
    pthread_mutex_lock(&h->lock);
    h->head = (h->head + 1) % HANDOFF_SLOTS;
    if (h->used-- == HANDOFF_SLOTS) pthread_cond_broadcast(&h->changed);
  }
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

/* Drains the consumer queue into the handoff's free slots until `count` good messages were
 * handed over; the worker's own count (h->seen) is the result. */
static int handoff_consume(rd_kafka_t* rk, long count, raw_result* out) {
  static handoff h;
  memset(&h, 0, sizeof h);
  pthread_mutex_init(&h.lock, NULL);
  pthread_cond_init(&h.changed, NULL);
  h.out = out;
  pthread_t worker;
  pthread_create(&worker, NULL, handoff_worker, &h);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk);
  long handed = 0;
  int failed = 0;
  while (handed < count) {
    pthread_mutex_lock(&h.lock);
    while (h.used == HANDOFF_SLOTS) pthread_cond_wait(&h.changed, &h.lock);
    const int slot = (h.head + h.used) % HANDOFF_SLOTS;
    pthread_mutex_unlock(&h.lock);
    /* The slot is the polling thread's until it is counted in `used`. */
    const size_t want = count - handed < RAW_BATCH_SIZE ? (size_t)(count - handed) : RAW_BATCH_SIZE;
    ssize_t got = rd_kafka_consume_batch_queue(queue, 0, h.slots[slot], want);
    if (got < 0) {
      fprintf(stderr, "raw: rd_kafka_consume_batch_queue: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
      failed = 1;
      break;
    }
    if (got == 0) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
      if (!m) continue;
      h.slots[slot][0] = m;
      got = 1;
    }
    for (ssize_t i = 0; i < got; ++i) handed += !h.slots[slot][i]->err;
    pthread_mutex_lock(&h.lock);
    h.sizes[slot] = (size_t)got;
    if (h.used++ == 0) pthread_cond_broadcast(&h.changed);
    pthread_mutex_unlock(&h.lock);
  }
  pthread_mutex_lock(&h.lock);
  h.done = 1;
  pthread_cond_broadcast(&h.changed);
  pthread_mutex_unlock(&h.lock);
  pthread_join(worker, NULL);
  rd_kafka_queue_destroy(queue);
  return failed ? -1 : 0;
}

int raw_consume(const char* brokers, const char* topic, const char* group, long count, int flags,
                const raw_options* opts, raw_result* out) {
  const char* const* props = opts ? opts->props : NULL;
  latency_ms = opts ? opts->latency_ms : NULL;
  on_assigned = opts ? opts->on_assigned : NULL;
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
  /* Samsa's fetch-queue defaults (add_fetch_queue_defaults in src/settings.cpp, for the
   * default max_buffered_bytes of 48 MiB and one consumer group: librdkafka's half is
   * 24 MiB), which the raw-autostore loop, librdkafka's defaults, goes without; `props` can
   * override them. */
  int queue_failed = 0;
  if (!autostore && rd_kafka_version() >= 0x02010000)
    queue_failed = rd_kafka_conf_set(conf, "fetch.queue.backoff.ms", "20", err, sizeof err) != RD_KAFKA_CONF_OK ||
                   rd_kafka_conf_set(conf, "queued.max.messages.kbytes", "24576", err, sizeof err) != RD_KAFKA_CONF_OK ||
                   rd_kafka_conf_set(conf, "queued.min.messages", "49152", err, sizeof err) != RD_KAFKA_CONF_OK;
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
  if (flags & RAW_HANDOFF) {
    if (handoff_consume(rk, count, out) != 0) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
      return -1;
    }
    seen = count;
  } else if (flags & RAW_BATCH) {
    /* The consumer queue (rd_kafka_poll_set_consumer above forwards the main queue to it, so
     * the rebalance callback is served inside rd_kafka_consume_batch_queue too). Timeout 0:
     * a non-zero timeout would wait until the batch is full; an empty queue is waited on by
     * rd_kafka_consumer_poll, which returns with the first message. */
    rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t* batch[RAW_BATCH_SIZE];
    while (seen < count) {
      const size_t want = count - seen < RAW_BATCH_SIZE ? (size_t)(count - seen) : RAW_BATCH_SIZE;
      const ssize_t got = rd_kafka_consume_batch_queue(queue, 0, batch, want);
      if (got < 0) {
        fprintf(stderr, "raw: rd_kafka_consume_batch_queue: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_queue_destroy(queue);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return -1;
      }
      for (ssize_t i = 0; i < got; ++i) take(batch[i], out, &seen, &last);
      if (got == 0) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (m) take(m, out, &seen, &last);
      }
    }
    rd_kafka_queue_destroy(queue);
  }
  while (seen < count) {
    rd_kafka_message_t* m = NULL;
    if (flags & RAW_NOWAIT_FIRST) m = rd_kafka_consumer_poll(rk, 0);
    if (!m) m = rd_kafka_consumer_poll(rk, 1000);
    if (m) take(m, out, &seen, &last);
  }
  out->seconds = now_s() - assigned_at;
  out->assigned_at = assigned_at;
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}
