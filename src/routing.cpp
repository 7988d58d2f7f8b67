#include "samsa/routing.hpp"

#include <algorithm>

#include "settings_table.hpp"

namespace samsa {

TopicRoute& ConsumerGroupRoute::topic(const std::string& name) {
  for (auto& t : topics_)
    if (t->name() == name) return *t;
  topics_.push_back(std::make_unique<TopicRoute>(name));
  return *topics_.back();
}

ConsumerGroupRoute& ConsumerGroupRoute::topic(const std::string& name,
                                              const std::function<void(TopicRoute&)>& draw) {
  draw(topic(name));
  return *this;
}

const TopicRoute* ConsumerGroupRoute::find(const std::string& topic) const {
  for (const auto& t : topics_)
    if (t->name() == topic) return t.get();
  return nullptr;
}

ConsumerGroupRoute& Routes::consumer_group(const std::string& name) {
  for (auto& g : groups_)
    if (g->name() == name) return *g;
  groups_.push_back(std::make_unique<ConsumerGroupRoute>(name));
  return *groups_.back();
}

Routes& Routes::consumer_group(const std::string& name,
                               const std::function<void(ConsumerGroupRoute&)>& draw) {
  draw(consumer_group(name));
  return *this;
}

const ConsumerGroupRoute* Routes::find(const std::string& group) const {
  for (const auto& g : groups_)
    if (g->name() == group) return g.get();
  return nullptr;
}

std::vector<std::string> Routes::problems() const {
  std::vector<std::string> out;
  if (groups_.empty()) out.push_back("no consumer group is routed: add one with routes.consumer_group(...)");
  for (const auto& g : groups_) {
    const std::string gw = "consumer group '" + g->name() + "': ";
    if (g->name().empty()) out.push_back("a consumer group has an empty name");
    if (g->topics().empty()) out.push_back(gw + "routes no topic");
    auto gp = samsa::problems(g->overrides(), gw);
    out.insert(out.end(), gp.begin(), gp.end());
    for (const auto& t : g->topics()) {
      const std::string tw = gw + "topic '" + t->name() + "': ";
      if (!t->factory()) out.push_back(tw + "has no consumer: add .consumer<YourConsumer>()");
      if (g->transactional() && t->offset_store())
        out.push_back(tw + "an offset_store on a transactional consumer group: the offsets live in one place, "
                           "the database's transaction or Kafka's; drop one");
      if (!t->deserializer()) out.push_back(tw + "has an empty deserializer");
      const Overrides& o = t->overrides();
      // One librdkafka consumer polls for the whole group: these cannot differ per topic.
      for (const auto& s : detail::inherited_settings())
        if (s.level == detail::Level::group && s.overridden(o))
          out.push_back(tw + std::string(s.name) + ": set it on the consumer group, not a topic");
      if (!o.kafka.empty()) out.push_back(tw + "kafka properties: set them on the consumer group, not a topic");
      auto tp = samsa::problems(o, tw);
      out.insert(out.end(), tp.begin(), tp.end());
      if (t->partitions() < 1 && t->partitions() != -1)
        out.push_back(tw + "partitions: must be at least 1 (or -1, not declared: the broker's default)");
      if (const auto& dlq = t->dead_letter_queue()) {
        if (dlq->max_retries < 0)
          out.push_back(tw + "dead_letter_queue: max_retries must be 0 or more (0: at the first failure)");
        if (dlq->dispatch && dlq->topic.empty())
          out.push_back(tw + "dead_letter_queue: no topic; name one, or set .dispatch = false to skip the message");
        if (dlq->dispatch && dlq->topic == t->name())
          out.push_back(tw + "dead_letter_queue: the topic is the route's own topic; a failing message would come back to it");
      }
    }
  }
  return out;
}

TopicSettings effective(const Settings& app, const ConsumerGroupRoute& group) {
  return resolve(app.topic_defaults(), group.overrides());
}

TopicSettings effective(const Settings& app, const ConsumerGroupRoute& group,
                        const TopicRoute& topic) {
  TopicSettings s = resolve(effective(app, group), topic.overrides());
  // Marks of a route with an offset store or of a transactional group are written by
  // transactions only.
  if (topic.offset_store() || group.transactional()) s.automatically_mark_as_consumed = false;
  return s;
}

std::map<std::string, std::string> effective_kafka(const Settings& app,
                                                   const ConsumerGroupRoute& group) {
  auto out = app.kafka;
  for (const auto& [k, v] : group.overrides().kafka) out[k] = v;
  return out;
}

}  // namespace samsa
