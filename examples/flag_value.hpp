#pragma once
// The examples' early look at their own command line: the routes are drawn before App::run
// parses it, so the options that shape a route (a topic's name, a dead-letter topic, a
// database) are read here first; App::run parses and checks them again with the others.
#include <optional>
#include <string>
#include <string_view>

namespace examples {

/// The value of `--flag V` or `--flag=V` in argv (the last one given), if any.
inline std::optional<std::string> flag_value(int argc, char** argv, std::string_view flag) {
  std::optional<std::string> value;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == flag && i + 1 < argc)
      value = argv[++i];
    else if (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag && arg[flag.size()] == '=')
      value = std::string(arg.substr(flag.size() + 1));
  }
  return value;
}

}  // namespace examples
