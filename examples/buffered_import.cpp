// buffered_import: the buffer example of Karafka's offset management page, for real.
//
// Consumes `user_events` in consumer group `events` with manual offset management. Events
// are buffered in the consumer (one instance per partition, kept across batches) and
// imported into SQLite in batches of --flush-size, each inside one transaction. The last
// imported message is marked only after the database commit, so a crash at any moment
// re-delivers what was not imported yet and never skips it. A quiet topic is imported too:
// tick() flushes when the oldest buffered event is older than --flush-interval, and
// before_stop() imports the rest on a graceful shutdown. When anything fails (a bad event,
// the database), the buffer is dropped and Samsa delivers its events again: none is
// imported twice, none is marked before it is in the database.
//
// An event with "poison": true can never be imported: consume() throws on it every time.
// With --dead-letter-topic, Samsa sends it there after --max-retries retries and the
// partition goes on. Samsa retries and dispatches the partition's first unmarked message,
// so before throwing the consumer imports and marks what it buffered before the poison
// event: the poison event is then the first unmarked one, not an innocent event before it.
//
//   buffered_import server --brokers 127.0.0.1:9092 --db events.db [--busy-timeout MS]
//                          [--dead-letter-topic user_events_dlq [--max-retries 3]]
#include "buffered_import.hpp"

int main(int argc, char** argv) {
  auto& options = buffered_import::options;
  samsa::App app;
  app.setup(buffered_import::configure);
  // Drawn after run() parsed the command line: options.dead_letter_topic is --dead-letter-topic's.
  app.routes(buffered_import::draw_routes);
  app.option("--db", options.db, "SQLite database file");
  app.option("--flush-size", options.flush_size, "Import in batches of this many events");
  app.option("--flush-interval", options.flush_interval_ms,
             "Import a partial batch once its oldest event waited this many milliseconds");
  app.option("--busy-timeout", options.busy_timeout_ms,
             "Milliseconds an import waits for a database locked by another connection");
  app.option("--dead-letter-topic", options.dead_letter_topic,
             "Send an event that keeps failing (\"poison\": true) to this topic after --max-retries "
             "retries (default: none, it blocks its partition)");
  app.option("--max-retries", options.max_retries, "Retries of a failing event before its dead letter");
  return app.run(argc, argv);
}
