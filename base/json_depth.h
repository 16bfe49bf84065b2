// Parsing JSON that comes from outside the process (admission reviews, audit lines, snapshot
// documents) with a limit on how deeply arrays and objects nest.
//
// nlohmann's parser itself is iterative, but dump(), copies and comparisons of the parsed value
// recurse once per level, so a document such as 100000 '[' followed by as many ']' parses and then
// overflows the stack when it is printed or copied. Real documents nest a few dozen levels at
// most; anything deeper is refused before nlohmann sees it, by a single linear scan.
//
// Thread safety: pure functions.
#ifndef EPHEMERA_BASE_JSON_DEPTH_H_
#define EPHEMERA_BASE_JSON_DEPTH_H_

#include <nlohmann/json.hpp>
#include <string_view>

namespace ephemera::base {

// Far above any Kubernetes object or snapshot document, far below what the recursion can take.
inline constexpr int kMaxJsonDepth = 128;

// True when `text` opens more than `max_depth` arrays or objects inside one another (brackets
// inside strings do not count). Malformed text is judged by its brackets alone.
bool NestsDeeperThan(std::string_view text, int max_depth = kMaxJsonDepth);

// Like nlohmann::json::parse(text, nullptr, false): the value, or a discarded value when `text` is
// not JSON or nests deeper than `max_depth`.
nlohmann::json ParseJsonWithinDepth(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_JSON_DEPTH_H_
