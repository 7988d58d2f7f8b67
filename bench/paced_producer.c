/* samsa-bench-producer: produces at a steady rate, for the latency study (bench/run.py --study
 * latency).
 *
 *   samsa-bench-producer --brokers B --topic T --rate R --seconds S [--bytes N]
 *
 * A librdkafka producer with linger.ms 0 (each message is sent as soon as it is produced) and
 * no key (librdkafka's default partitioner spreads the messages over the partitions at
 * random). Message i is produced at start + i / R (clock_nanosleep to that absolute time; one
 * that is late goes at once, with no sleep), its CreateTime set by librdkafka at the call: the
 * consumer's latency of a message is its receive time minus that timestamp. The clock starts
 * once the topic's metadata names a leader for every partition (a new topic's first produce
 * would otherwise wait in librdkafka for its leaders, seconds on a busy machine). The payload is
 * N bytes (default 100) of the message's number in text, padded. Prints one JSON line: the
 * messages produced and delivered, the seconds, the rate, how late the latest message was
 * produced against its schedule, and the p50, p99 and max of the delivery reports' latency
 * (acks=all from the one broker: the broker's and the producer's share of the consumers'
 * latency). */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long delivered = 0, failed = 0;
static double* acked_ms = NULL;  /* per delivered message: the delivery report's time minus its CreateTime */

static double wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) {
    ++failed;
    return;
  }
  rd_kafka_timestamp_type_t type;
  acked_ms[delivered++] = wall_ms() - (double)rd_kafka_message_timestamp(m, &type);
}

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Waits up to 30 s until the metadata of `topic` lists a leader for each of its partitions. */
static int wait_for_leaders(rd_kafka_t* rk, const char* topic) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic, NULL);
  int ready = 0;
  for (int attempt = 0; attempt < 300 && !ready; ++attempt) {
    const struct rd_kafka_metadata* md = NULL;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
        !md->topics[0].err && md->topics[0].partition_cnt > 0) {
      ready = 1;
      for (int i = 0; i < md->topics[0].partition_cnt; ++i)
        if (md->topics[0].partitions[i].leader < 0 || md->topics[0].partitions[i].err) ready = 0;
    }
    if (md) rd_kafka_metadata_destroy(md);
    if (!ready) {
      const struct timespec pause = {0, 100 * 1000 * 1000};
      nanosleep(&pause, NULL);
    }
  }
  rd_kafka_topic_destroy(rkt);
  return ready;
}

static double seconds_of(const struct timespec* ts) { return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9; }

int main(int argc, char** argv) {
  const char *brokers = NULL, *topic = NULL;
  double rate = 0, seconds = 0;
  int bytes = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--brokers")) brokers = argv[i + 1];
    else if (!strcmp(argv[i], "--topic")) topic = argv[i + 1];
    else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--bytes")) bytes = atoi(argv[i + 1]);
  }
  if (!brokers || !topic || rate <= 0 || seconds <= 0 || bytes < 1 || bytes > 65536) {
    fprintf(stderr, "usage: samsa-bench-producer --brokers B --topic T --rate R --seconds S [--bytes N]\n");
    return 2;
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) ||
      rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof err) ||
      rd_kafka_conf_set(conf, "client.id", "samsa-bench-producer", err, sizeof err)) {
    fprintf(stderr, "samsa-bench-producer: %s\n", err);
    return 1;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "samsa-bench-producer: %s\n", err);
    return 1;
  }
  if (!wait_for_leaders(rk, topic)) {
    fprintf(stderr, "samsa-bench-producer: %s has no leader for every partition after 30 s\n", topic);
    rd_kafka_destroy(rk);
    return 1;
  }
  const long total = (long)(rate * seconds);
  acked_ms = calloc((size_t)total + 1, sizeof *acked_ms);
  char* payload = malloc((size_t)bytes);
  struct timespec start, at, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  double max_late = 0;
  long produced = 0;
  for (long i = 0; i < total; ++i) {
    const double due = seconds_of(&start) + (double)i / rate;
    at.tv_sec = (time_t)due;
    at.tv_nsec = (long)((due - (double)at.tv_sec) * 1e9);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (seconds_of(&now) < due) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (seconds_of(&now) - due > max_late) max_late = seconds_of(&now) - due;
    memset(payload, '.', (size_t)bytes);
    const int n = snprintf(payload, (size_t)bytes, "%ld", i);
    if (n < bytes) payload[n] = '.';  /* snprintf's NUL back to padding */
    if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, (size_t)bytes),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR)
      ++produced;
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 30000);
  clock_gettime(CLOCK_MONOTONIC, &now);
  qsort(acked_ms, (size_t)delivered, sizeof *acked_ms, by_value);
  const long last = delivered > 0 ? delivered - 1 : 0;
  printf("{\"produced\":%ld,\"delivered\":%ld,\"failed\":%ld,\"seconds\":%.3f,\"msg_per_s\":%.1f,"
         "\"max_late_ms\":%.3f,\"acked_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
         produced, delivered, failed, seconds_of(&now) - seconds_of(&start),
         (double)produced / (seconds_of(&now) - seconds_of(&start)), max_late * 1000, acked_ms[last / 2],
         acked_ms[(long)(0.99 * (double)last)], acked_ms[last]);
  free(acked_ms);
  free(payload);
  rd_kafka_destroy(rk);
  return failed ? 1 : 0;
}
