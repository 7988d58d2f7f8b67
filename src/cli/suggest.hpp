#pragma once
// "Did you mean" for a mistyped word on the command line. Pure, no I/O.
#include <string>
#include <string_view>
#include <vector>

namespace samsa::detail {

/// `; did you mean `C`?` for the candidate C nearest to `word` (at most two single-character
/// edits away, or one that starts with it or it with it), "" when none is near.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace samsa::detail
