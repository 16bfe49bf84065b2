#include "debugpod/procfs/memory_events.h"

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "debugpod/procfs/process_files.h"

namespace ephemera::procfs {
namespace {

// The values of `keys` in flat-keyed `text` ("oom 0\noom_kill 2\n"); other keys are skipped.
StatusOr<std::map<std::string_view, uint64_t>> ParseFlatKeyed(
    std::string_view text, std::string_view file_name,
    std::initializer_list<std::string_view> keys) {
  auto malformed = [&](const std::string& why) {
    return InvalidArgumentError("malformed " + std::string(file_name) + ": " + why);
  };
  if (text.size() > kMaxMemoryEventsBytes) {
    return malformed("more than " + std::to_string(kMaxMemoryEventsBytes) + " bytes");
  }
  std::map<std::string_view, uint64_t> values;
  for (std::string_view line : SplitLines(text)) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.empty()) continue;
    bool known = false;
    for (std::string_view key : keys) known = known || f[0] == key;
    if (!known) continue;
    std::optional<uint64_t> value = f.size() == 2 ? ParseUnsigned(f[1]) : std::nullopt;
    if (!value) return malformed(std::string(f[0]) + " is not followed by a number");
    if (!values.emplace(f[0], *value).second) {
      return malformed(std::string(f[0]) + " given twice");
    }
  }
  return values;
}

std::optional<uint64_t> Get(const std::map<std::string_view, uint64_t>& values,
                            std::string_view key) {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

}  // namespace

StatusOr<MemoryEvents> ParseMemoryEvents(std::string_view text) {
  StatusOr<std::map<std::string_view, uint64_t>> values = ParseFlatKeyed(
      text, "memory.events", {"low", "high", "max", "oom", "oom_kill", "oom_group_kill"});
  if (!values.ok()) return values.status();
  MemoryEvents events;
  events.low = Get(*values, "low");
  events.high = Get(*values, "high");
  events.max = Get(*values, "max");
  events.oom = Get(*values, "oom");
  events.oom_kill = Get(*values, "oom_kill");
  events.oom_group_kill = Get(*values, "oom_group_kill");
  return events;
}

StatusOr<OomControl> ParseOomControl(std::string_view text) {
  StatusOr<std::map<std::string_view, uint64_t>> values =
      ParseFlatKeyed(text, "memory.oom_control", {"oom_kill_disable", "under_oom", "oom_kill"});
  if (!values.ok()) return values.status();
  std::optional<uint64_t> under_oom = Get(*values, "under_oom");
  if (!under_oom) return InvalidArgumentError("malformed memory.oom_control: no under_oom");
  OomControl control;
  control.under_oom = *under_oom != 0;
  control.oom_kill_disable = Get(*values, "oom_kill_disable").value_or(0) != 0;
  control.oom_kill = Get(*values, "oom_kill");
  return control;
}

}  // namespace ephemera::procfs
