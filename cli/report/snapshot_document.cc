#include "cli/report/snapshot_document.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <utility>

namespace ephemera::report {

using nlohmann::json;

namespace {

std::string TypeName(const json& value) { return value.type_name(); }

// A top-level field that, when present, must have the given type for the document to make sense.
Status CheckTopLevelType(const json& snapshot, std::string_view key, json::value_t expected) {
  const json* field = FindField(snapshot, key);
  if (field == nullptr || field->type() == expected) return OkStatus();
  return InvalidArgumentError("not a valid snapshot document: \"" + std::string(key) + "\" is " +
                              TypeName(*field) + ", expected " + TypeName(json(expected)));
}

void AddDistinct(std::vector<std::string>& values, std::string value) {
  if (std::find(values.begin(), values.end(), value) == values.end()) {
    values.push_back(std::move(value));
  }
}

// Identity of a stack for grouping: the function of every frame (pc when unknown) and its module.
// Offsets are left out so that threads parked at different points of the same call path group.
std::string StackKey(const json& thread) {
  const json* stack = ObjectField(thread, "stack");
  if (stack == nullptr) return "wchan:" + StringField(thread, "wchan");
  std::string key = "stack:";
  for (const json& frame : ArrayField(*stack, "frames")) {
    std::string symbol = StringField(frame, "symbol");
    key += symbol.empty() ? "pc " + StringField(frame, "pc") : "fn " + symbol;
    key += '\x1f';
    key += StringField(frame, "module");
    key += '\x1e';
  }
  return key;
}

std::string FormatScaled(double value, const char* unit, int decimals) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f %s", decimals, value, unit);
  return buf.data();
}

}  // namespace

StatusOr<std::string> RenderValidated(const json& snapshot,
                                      const std::function<std::string()>& render) {
  EPHEMERA_RETURN_IF_ERROR(ValidateSnapshot(snapshot));
  try {
    return render();
  } catch (const json::exception& e) {
    // The accessors do not throw; this guards against a path that was missed.
    return InvalidArgumentError(std::string("snapshot document could not be read: ") + e.what());
  }
}

Status ValidateSnapshot(const json& snapshot) {
  if (!snapshot.is_object()) {
    return InvalidArgumentError("not a snapshot document: expected a JSON object, got " +
                                TypeName(snapshot));
  }
  const json* api_version = FindField(snapshot, "apiVersion");
  if (api_version == nullptr || !api_version->is_string()) {
    return InvalidArgumentError("not a snapshot document: no \"apiVersion\" (expected \"" +
                                std::string(kSnapshotApiVersion) +
                                "\"); is this the output of ephemera-snapshot?");
  }
  const auto& version = api_version->get_ref<const std::string&>();
  if (version != kSnapshotApiVersion) {
    return InvalidArgumentError("unsupported snapshot schema \"" + version +
                                "\": this report reads \"" + std::string(kSnapshotApiVersion) +
                                "\"");
  }
  if (StringField(snapshot, "kind") != "Snapshot") {
    return InvalidArgumentError("not a snapshot document: \"kind\" is not \"Snapshot\"");
  }
  const std::array<std::pair<std::string_view, json::value_t>, 9> shapes = {{
      {"tool", json::value_t::object},
      {"budget", json::value_t::object},
      {"targets", json::value_t::object},
      {"sections", json::value_t::array},
      {"processTree", json::value_t::array},
      {"processes", json::value_t::array},
      {"redaction", json::value_t::object},
      {"degraded", json::value_t::array},
      {"overhead", json::value_t::object},
  }};
  for (const auto& [key, type] : shapes) {
    EPHEMERA_RETURN_IF_ERROR(CheckTopLevelType(snapshot, key, type));
  }
  for (const json& process : ArrayField(snapshot, "processes")) {
    if (!process.is_object() || !IntField(process, "pid").has_value()) {
      return InvalidArgumentError(
          "not a valid snapshot document: every entry of \"processes\" must be an object with "
          "an integer \"pid\"");
    }
  }
  return OkStatus();
}

std::string ScalarText(const json* value) {
  if (value == nullptr) return "";
  if (value->is_null()) return "-";
  if (value->is_string()) return value->get<std::string>();
  if (value->is_number_integer()) return std::to_string(value->get<std::int64_t>());
  if (value->is_boolean()) return value->get<bool>() ? "true" : "false";
  return value->dump();
}

std::string PiiModeText(std::string_view mode) {
  if (mode == "none") return "not masked (pii: none)";
  if (mode == "standard") {
    return "e-mail addresses, card numbers, IBANs and phone numbers masked (pii: standard)";
  }
  if (mode == "strict") {
    return "e-mail addresses, card numbers, IBANs, phone numbers and IP addresses masked (pii: "
           "strict)";
  }
  return "unknown mode";
}

std::string FormatBytes(std::int64_t bytes) {
  if (bytes < 0) return std::to_string(bytes) + " B";
  constexpr std::array<const char*, 5> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  return FormatScaled(value, kUnits[unit], value < 10.0 ? 1 : 0);
}

std::string FormatMicros(std::int64_t micros) {
  if (micros < 1000) return std::to_string(micros) + " us";
  if (micros < 1000000) return FormatScaled(static_cast<double>(micros) / 1000.0, "ms", 1);
  return FormatScaled(static_cast<double>(micros) / 1e6, "s", 2);
}

std::vector<StackGroup> GroupThreadsByStack(const json& threads) {
  std::vector<StackGroup> groups;
  std::map<std::string, std::size_t> index_by_key;
  std::vector<const json*> sorted;
  for (const json& thread : threads) {
    if (thread.is_object()) sorted.push_back(&thread);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const json* a, const json* b) {
    return IntField(*a, "tid").value_or(0) < IntField(*b, "tid").value_or(0);
  });
  for (const json* thread : sorted) {
    auto [it, inserted] = index_by_key.try_emplace(StackKey(*thread), groups.size());
    if (inserted) {
      StackGroup group;
      if (const json* stack = ObjectField(*thread, "stack"); stack != nullptr) {
        group.frames = &ArrayField(*stack, "frames");
        group.unwind = StringField(*stack, "unwind");
      }
      groups.push_back(std::move(group));
    }
    StackGroup& group = groups[it->second];
    group.threads.push_back(thread);
    if (std::string state = StringField(*thread, "state"); !state.empty()) {
      AddDistinct(group.states, std::move(state));
    }
    if (std::string wchan = StringField(*thread, "wchan"); !wchan.empty()) {
      AddDistinct(group.wchans, std::move(wchan));
    }
  }
  // Groups were created in tid order, so a stable sort by size keeps lowest-tid-first for ties.
  std::stable_sort(groups.begin(), groups.end(), [](const StackGroup& a, const StackGroup& b) {
    return a.threads.size() > b.threads.size();
  });
  return groups;
}

std::string FrameFunction(const json& frame) {
  std::string symbol = StringField(frame, "symbol");
  if (symbol.empty()) return StringField(frame, "pc");
  if (auto offset = IntField(frame, "offset"); offset.has_value()) {
    symbol += "+" + std::to_string(*offset);
  }
  return symbol;
}

std::string ThreadLabel(const json& thread) {
  std::string tid = "[" + ScalarText(FindField(thread, "tid")) + "]";
  std::string name = StringField(thread, "name");
  return name.empty() ? tid : name + " " + tid;
}

std::vector<const json*> DegradedFor(const json& snapshot, std::optional<std::int64_t> pid) {
  std::vector<const json*> entries;
  for (const json& entry : ArrayField(snapshot, "degraded")) {
    if (IntField(entry, "pid") == pid) entries.push_back(&entry);
  }
  return entries;
}

std::string DegradedReason(const json& snapshot, std::int64_t pid, std::string_view section) {
  std::string reason;
  for (const json* entry : DegradedFor(snapshot, pid)) {
    if (StringField(*entry, "section") == section) reason = StringField(*entry, "reason");
  }
  return reason;
}

std::string FrameIdentity(const json& frame) {
  std::string symbol = StringField(frame, "symbol");
  return symbol.empty() ? StringField(frame, "pc") : symbol;
}

}  // namespace ephemera::report
