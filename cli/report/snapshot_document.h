// Reading a snapshot document for the reports: validation, tolerant field access and the views both
// renderers share (threads grouped by stack, sizes in human units). Internal to ephemera_report.
//
// The accessors never throw: a field that is absent or of an unexpected type reads as "not there",
// so a report of a partly captured (or partly damaged) document still renders.
#ifndef EPHEMERA_CLI_REPORT_SNAPSHOT_DOCUMENT_H_
#define EPHEMERA_CLI_REPORT_SNAPSHOT_DOCUMENT_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_access.h"
#include "base/status.h"

namespace ephemera::report {

inline constexpr std::string_view kSnapshotApiVersion = "ephemera.dev/snapshot/v1";

// OK when `snapshot` is a v1 snapshot document a report can be made of; InvalidArgument saying
// what is wrong otherwise.
Status ValidateSnapshot(const nlohmann::json& snapshot);

// ValidateSnapshot, then `render()`; a JSON exception from a path the accessors missed becomes
// InvalidArgument instead of escaping.
StatusOr<std::string> RenderValidated(const nlohmann::json& snapshot,
                                      const std::function<std::string()>& render);

// Tolerant member access (base/json_access.h).
using base::ArrayField;
using base::FindField;
using base::IntField;
using base::ObjectField;
using base::StringField;

// A scalar for display: integers and strings as they are, null as "-", absent as "".
std::string ScalarText(const nlohmann::json* value);

// What redaction.pii (the snapshot tool's --pii mode) masked, for people: "none" -> "not masked
// (pii: none)". An unknown mode is not echoed (the document is input): "unknown mode".
std::string PiiModeText(std::string_view mode);

// 1536 -> "1.5 KiB"; below 1 KiB in bytes ("512 B").
std::string FormatBytes(std::int64_t bytes);
// Microseconds for people: "850 us", "12.3 ms", "2.05 s".
std::string FormatMicros(std::int64_t micros);

// Threads of one process whose stacks are identical (frame by frame the same function, or the same
// pc where the symbol is unknown). Threads without a captured stack are grouped by their wchan.
struct StackGroup {
  std::vector<const nlohmann::json*> threads;  // ascending tid; points into the document
  const nlohmann::json* frames = nullptr;      // the first thread's frames; nullptr: no stack
  std::string unwind;                          // the first thread's unwind method, "" if none
  std::vector<std::string> states;             // distinct thread states, in first-seen order
  std::vector<std::string> wchans;             // distinct non-empty wchans, in first-seen order
};
// Most common stack first; equal counts by lowest tid. Pointers are valid while `threads` lives.
std::vector<StackGroup> GroupThreadsByStack(const nlohmann::json& threads);

// "__nanosleep+19", or the pc when the symbol is unknown.
std::string FrameFunction(const nlohmann::json& frame);

// Display name of a thread: "name [tid]", or "[tid]" when unnamed.
std::string ThreadLabel(const nlohmann::json& thread);

// The degraded entries about `pid` (document-wide ones when pid is nullopt).
std::vector<const nlohmann::json*> DegradedFor(const nlohmann::json& snapshot,
                                               std::optional<std::int64_t> pid);

// The reason of the (last) degraded entry for `section` of process `pid`, or "" when there is none.
std::string DegradedReason(const nlohmann::json& snapshot, std::int64_t pid,
                           std::string_view section);

// Function identity of a frame for merging stacks: the symbol without offset, else the pc.
std::string FrameIdentity(const nlohmann::json& frame);

}  // namespace ephemera::report

#endif  // EPHEMERA_CLI_REPORT_SNAPSHOT_DOCUMENT_H_
