#include "cli/topics_cli.hpp"

#include <ostream>
#include <string>
#include <vector>

#include "admin/topic_plan.hpp"
#include "admin/topic_state.hpp"
#include "samsa/app.hpp"
#include "samsa/errors.hpp"

namespace samsa::detail {

namespace {

using admin::TopicChange;

std::string spec_text(const admin::TopicSpec& s) {
  std::string out = (s.partitions == -1 ? std::string("the broker's default partition count")
                                        : std::to_string(s.partitions) + " partitions") +
                    ", replication factor " +
                    (s.replication_factor == -1 ? std::string("the broker's default")
                                                : std::to_string(s.replication_factor));
  for (const auto& [key, value] : s.configs) out += ", " + key + "=" + value;
  return out;
}

std::vector<admin::TopicSpec> specs_of(const std::vector<DeclaredTopic>& topics) {
  std::vector<admin::TopicSpec> out;
  out.reserve(topics.size());
  for (const auto& t : topics) out.push_back(t.spec);
  return out;
}

// One line per topic, so that `| grep TOPIC` shows all of it:
// "topic NAME (dead-letter topic of SOURCE): STATUS: DIFFERENCE | DIFFERENCE".
void print_line(std::ostream& out, const DeclaredTopic& topic, const std::string& status,
                const TopicChange& change) {
  out << "topic " << topic.spec.name;
  if (!topic.dead_letter_of.empty()) out << " (dead-letter topic of " << topic.dead_letter_of << ")";
  out << ": " << status;
  for (std::size_t i = 0; i < change.differences.size(); ++i)
    out << (i == 0 ? ": " : " | ") << change.differences[i].text;
  out << "\n";
}

std::string topics_text(std::size_t n) { return std::to_string(n) + (n == 1 ? " topic" : " topics"); }

struct Counts {
  int create = 0, ok = 0, differs = 0, unknown = 0, created = 0;  // created: topics_create
  void add(TopicChange::Action a) {
    switch (a) {
      case TopicChange::Action::create: ++create; break;
      case TopicChange::Action::ok: ++ok; break;
      case TopicChange::Action::differs: ++differs; break;
      case TopicChange::Action::unknown: ++unknown; break;
    }
  }
  bool matches() const { return create == 0 && differs == 0 && unknown == 0; }
};

}  // namespace

std::vector<DeclaredTopic> declared_topics(const Routes& routes) {
  std::vector<DeclaredTopic> out;
  auto find = [&](const std::string& name) -> DeclaredTopic* {
    for (auto& t : out)
      if (t.spec.name == name) return &t;
    return nullptr;
  };
  for (const auto& g : routes.groups())
    for (const auto& t : g->topics()) {
      admin::TopicSpec spec{t->name(), t->partitions(), t->replication_factor(), t->configs()};
      if (const DeclaredTopic* seen = find(spec.name)) {
        const auto& s = seen->spec;
        if (s.partitions != spec.partitions || s.replication_factor != spec.replication_factor ||
            s.configs != spec.configs)
          throw RoutingError("topic '" + spec.name + "' is routed twice with different topic "
                             "settings (" + spec_text(s) + "; and " + spec_text(spec) +
                             " in consumer group '" + g->name() +
                             "'): declare them the same in every route");
        continue;
      }
      out.push_back({std::move(spec), ""});
    }
  // Dead-letter topics: as many partitions as their source, so that a key's failed messages
  // stay in one partition as they were. A routed one is declared by its own route.
  for (const auto& g : routes.groups())
    for (const auto& t : g->topics())
      if (const auto& dlq = t->dead_letter_queue(); dlq && dlq->dispatch && !find(dlq->topic))
        out.push_back({{dlq->topic, t->partitions(), t->replication_factor(), {}}, t->name()});
  return out;
}

std::string topics_brokers(const std::string& flag, const Settings& settings) {
  if (!flag.empty()) return flag;
  if (auto it = settings.kafka.find("bootstrap.servers"); it != settings.kafka.end() && !it->second.empty())
    return it->second;
  throw SettingsError("no brokers: pass --brokers or set KAFKA_BROKERS");
}

int topics_plan(const Routes& routes, const admin::Cluster& cluster, std::ostream& out) {
  const auto declared = declared_topics(routes);
  const auto specs = specs_of(declared);
  const auto changes =
      admin::plan(specs, admin::describe_topics(cluster, specs), cluster.bootstrap_servers());
  Counts n;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    n.add(c.action);
    std::string status = admin::action_name(c.action);
    if (c.action == TopicChange::Action::create) status += " (" + spec_text(c.declared) + ")";
    print_line(out, declared[i], status, c);
  }
  out << "plan: " << topics_text(changes.size()) << ": " << n.ok << " ok, " << n.create
      << " to create, " << n.differs << " differ, " << n.unknown << " unknown\n";
  return n.matches() ? kExitOk : kExitTopicsDiffer;
}

int topics_create(const Routes& routes, const admin::Cluster& cluster, std::ostream& out) {
  const auto declared = declared_topics(routes);
  const auto specs = specs_of(declared);
  const std::string bootstrap = cluster.bootstrap_servers();
  const auto before = admin::plan(specs, admin::describe_topics(cluster, specs), bootstrap);
  std::vector<admin::TopicSpec> missing;
  for (const auto& c : before)
    if (c.action == TopicChange::Action::create) missing.push_back(c.declared);
  admin::create_topics(cluster, missing);
  // Read back rather than trust the request: what counts is what the cluster now has.
  const auto after = admin::plan(specs, admin::describe_topics(cluster, specs), bootstrap);
  Counts n;
  int ready = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    const auto& c = after[i];
    const bool created = before[i].action == TopicChange::Action::create &&
                         c.action != TopicChange::Action::create;
    n.add(c.action);
    n.created += created;
    std::string status;
    switch (c.action) {
      case TopicChange::Action::ok:
        status = created ? "created" : "ready";
        ready += !created;
        break;
      case TopicChange::Action::create:
        status = "missing (not created)";
        break;
      default:
        status = (created ? "created, but " : "") + std::string(admin::action_name(c.action));
    }
    print_line(out, declared[i], status, c);
  }
  out << "create: " << topics_text(after.size()) << ": " << n.created << " created, " << ready
      << " ready, " << n.differs << " differ, " << n.unknown << " unknown";
  if (n.create) out << ", " << n.create << " missing";
  out << "\n";
  return n.matches() ? kExitOk : kExitTopicsDiffer;
}

}  // namespace samsa::detail
