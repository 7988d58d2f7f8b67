#pragma once
// Every setting of a Samsa app, declared once: its name, its field, the text form of its
// value (setting_text.hpp) and its range. Settings::set, Overrides::set, Settings::names,
// the problems of settings and of overrides, resolve(), the routes' refusal of group-level
// settings on a topic, and `info` all walk these two tables, so that a new setting is its
// field in include/samsa/settings.hpp (plus its std::optional in Overrides when it
// inherits) and one entry in settings_table.cpp.
//
// The order of each table is the order of problems() and of `info`.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "samsa/settings.hpp"

namespace samsa::detail {

/// One setting, with its field's type erased. `Owner` holds the field: TopicSettings for
/// the inherited settings, Settings for the app-only ones.
template <class Owner>
struct Setting {
  std::string_view name;
  /// Parses `text` into the field; throws SettingsError naming the setting.
  std::function<void(Owner&, std::string_view text)> set;
  /// The field's value as `info` prints it; set() reads it back to the same value.
  std::function<std::string(const Owner&)> text;
  /// Why the field's value is out of range (e.g. "must be at least 1"); empty when it is
  /// in range. May look at the other fields of the owner.
  std::function<std::string(const Owner&)> problem;
};

/// The lowest level an inherited setting can be set at.
enum class Level {
  topic,  ///< app, consumer group or topic
  group,  ///< app or consumer group: one librdkafka consumer polls for the whole group
};

/// A setting that inherits app -> consumer group -> topic: a field of TopicSettings and its
/// std::optional in Overrides.
struct InheritedSetting : Setting<TopicSettings> {
  Level level = Level::topic;
  /// Parses `text` into the override; throws SettingsError naming the setting.
  std::function<void(Overrides&, std::string_view text)> set_override;
  /// Whether the override is set.
  std::function<bool(const Overrides&)> overridden;
  /// Copies the override, when set, over the inherited value (resolve()).
  std::function<void(TopicSettings&, const Overrides&)> apply;
};

using AppSetting = Setting<Settings>;

const std::vector<InheritedSetting>& inherited_settings();
const std::vector<AppSetting>& app_settings();

/// The entry named `name` in `table`, or nullptr.
template <class Table>
const typename Table::value_type* find_setting(const Table& table, std::string_view name) {
  for (const auto& s : table)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace samsa::detail
