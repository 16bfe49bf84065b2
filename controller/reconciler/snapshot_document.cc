#include "controller/reconciler/snapshot_document.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/json_depth.h"

namespace ephemera::reconciler {
namespace {

using nlohmann::json;

Status Invalid(const std::string& what) {
  return DataLossError("the snapshot container's output is not a valid snapshot: " + what);
}

// "field 'targets.pids' is not an array". `path` is built from our own names and indexes only.
Status FieldError(const std::string& path, const std::string& problem) {
  return Invalid("field '" + path + "' " + problem);
}

std::string Indexed(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// The member `key` of an object, or null when absent.
const json* Member(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// A count (or pid): an integer in 0..INT64_MAX. Returns what is wrong with `value`, if anything.
std::optional<std::string> ReadCount(const json& value, std::int64_t& out) {
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return "is too large";
    }
    out = static_cast<std::int64_t>(n);
    return std::nullopt;
  }
  if (value.is_number_integer()) {
    const auto n = value.get<std::int64_t>();
    if (n < 0) return "is negative";
    out = n;
    return std::nullopt;
  }
  return "is not an integer";
}

// An optional count member of `object` (left as it is when absent).
Status ReadOptionalCount(const json& object, const char* key, const std::string& parent,
                         std::int64_t& out) {
  const json* value = Member(object, key);
  if (value == nullptr) return OkStatus();
  if (auto problem = ReadCount(*value, out)) return FieldError(parent + "." + key, *problem);
  return OkStatus();
}

// `text` cut to at most `max` bytes on a UTF-8 character boundary (the parser accepted only valid
// UTF-8, and a cut inside a character would make the status unwritable), then marked "..." when
// cut (so at most max + 3 bytes).
std::string Cut(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

Status ReadSections(const json& doc, SnapshotFacts& facts) {
  const json* sections = Member(doc, "sections");
  if (sections == nullptr) return OkStatus();
  if (!sections->is_array()) return FieldError("sections", "is not an array");
  if (sections->size() > kMaxSections) {
    return FieldError("sections", "has more than " + std::to_string(kMaxSections) + " entries");
  }
  for (std::size_t i = 0; i < sections->size(); ++i) {
    const json& section = (*sections)[i];
    if (!section.is_string()) return FieldError(Indexed("sections", i), "is not a string");
    const auto& name = section.get_ref<const std::string&>();
    if (name.size() > kMaxSectionNameBytes) {
      return FieldError(Indexed("sections", i),
                        "is longer than " + std::to_string(kMaxSectionNameBytes) + " bytes");
    }
    facts.sections.push_back(name);
  }
  return OkStatus();
}

// One degraded entry as a line: "section pid N: reason" (the tool's objects), or the string.
StatusOr<std::string> DegradedLine(const json& entry, const std::string& path) {
  if (entry.is_string()) return Cut(entry.get_ref<const std::string&>(), kMaxDegradedTextBytes);
  if (!entry.is_object()) return FieldError(path, "is neither a string nor an object");
  std::string section = "?";
  std::string reason = "unknown";
  if (const json* value = Member(entry, "section")) {
    if (!value->is_string()) return FieldError(path + ".section", "is not a string");
    section = Cut(value->get_ref<const std::string&>(), kMaxDegradedTextBytes);
  }
  std::optional<std::int64_t> pid;
  if (const json* value = Member(entry, "pid"); value != nullptr && !value->is_null()) {
    std::int64_t n = 0;
    if (auto problem = ReadCount(*value, n)) return FieldError(path + ".pid", *problem);
    pid = n;
  }
  if (const json* value = Member(entry, "reason")) {
    if (!value->is_string()) return FieldError(path + ".reason", "is not a string");
    reason = Cut(value->get_ref<const std::string&>(), kMaxDegradedTextBytes);
  }
  std::string line = section;
  if (pid) line += " pid " + std::to_string(*pid);
  return line + ": " + reason;
}

Status ReadDegraded(const json& doc, SnapshotFacts& facts) {
  const json* degraded = Member(doc, "degraded");
  if (degraded == nullptr) return OkStatus();
  if (!degraded->is_array()) return FieldError("degraded", "is not an array");
  // Every entry is checked; only the first ones are listed.
  for (std::size_t i = 0; i < degraded->size(); ++i) {
    auto line = DegradedLine((*degraded)[i], Indexed("degraded", i));
    if (!line.ok()) return line.status();
    if (facts.degraded.size() < kMaxDegradedListed) facts.degraded.push_back(std::move(*line));
  }
  if (degraded->size() > kMaxDegradedListed) {
    facts.degraded.push_back("... and " + std::to_string(degraded->size() - kMaxDegradedListed) +
                             " more degraded entries (listed in the snapshot)");
  }
  return OkStatus();
}

Status ReadTargets(const json& doc, SnapshotFacts& facts) {
  const json* targets = Member(doc, "targets");
  if (targets == nullptr) return OkStatus();
  if (!targets->is_object()) return FieldError("targets", "is not an object");
  const json* pids = Member(*targets, "pids");
  if (pids == nullptr) return OkStatus();
  if (!pids->is_array()) return FieldError("targets.pids", "is not an array");
  if (pids->size() > kMaxPids) {
    return FieldError("targets.pids", "has more than " + std::to_string(kMaxPids) + " entries");
  }
  for (std::size_t i = 0; i < pids->size(); ++i) {
    std::int64_t pid = 0;
    if (auto problem = ReadCount((*pids)[i], pid)) {
      return FieldError(Indexed("targets.pids", i), *problem);
    }
    if (pid > kMaxPid) {
      return FieldError(Indexed("targets.pids", i),
                        "is larger than any process id (" + std::to_string(kMaxPid) + ")");
    }
    facts.pids.push_back(pid);
  }
  return OkStatus();
}

Status ReadRedaction(const json& doc, SnapshotFacts& facts) {
  const json* redaction = Member(doc, "redaction");
  if (redaction == nullptr) return OkStatus();
  if (!redaction->is_object()) return FieldError("redaction", "is not an object");
  EPHEMERA_RETURN_IF_ERROR(
      ReadOptionalCount(*redaction, "envRedacted", "redaction", facts.redaction.env_redacted));
  if (const json* patterns = Member(*redaction, "patternsMatched")) {
    const std::string path = "redaction.patternsMatched";
    if (!patterns->is_object()) return FieldError(path, "is not an object");
    if (patterns->size() > kMaxPatternRules) {
      return FieldError(path, "has more than " + std::to_string(kMaxPatternRules) + " rules");
    }
    for (const auto& [rule, count] : patterns->items()) {
      if (rule.size() > kMaxPatternRuleBytes) {
        return FieldError(
            path, "has a rule name longer than " + std::to_string(kMaxPatternRuleBytes) + " bytes");
      }
      std::int64_t n = 0;
      if (auto problem = ReadCount(count, n)) {
        return FieldError(path, "has a count that " + *problem);
      }
      // Only the total leaves the snapshot (L9); saturating, counts are at most 2^63-1 each.
      std::int64_t& total = facts.redaction.text_redacted;
      total = n > std::numeric_limits<std::int64_t>::max() - total
                  ? std::numeric_limits<std::int64_t>::max()
                  : total + n;
    }
  }
  if (const json* dropped = Member(*redaction, "droppedFields")) {
    if (!dropped->is_array()) return FieldError("redaction.droppedFields", "is not an array");
    facts.redaction.dropped_fields = static_cast<std::int64_t>(dropped->size());
  }
  return OkStatus();
}

Status ReadOverhead(const json& doc, SnapshotFacts& facts) {
  const json* overhead = Member(doc, "overhead");
  if (overhead == nullptr) return OkStatus();
  if (!overhead->is_object()) return FieldError("overhead", "is not an object");
  api::OverheadSummary& o = facts.overhead;
  EPHEMERA_RETURN_IF_ERROR(
      ReadOptionalCount(*overhead, "targetFreezeMicros", "overhead", o.target_freeze_micros));
  EPHEMERA_RETURN_IF_ERROR(
      ReadOptionalCount(*overhead, "toolCpuMillis", "overhead", o.tool_cpu_millis));
  EPHEMERA_RETURN_IF_ERROR(
      ReadOptionalCount(*overhead, "toolMaxRssKiB", "overhead", o.tool_max_rss_kib));
  return ReadOptionalCount(*overhead, "wallMillis", "overhead", o.wall_millis);
}

}  // namespace

StatusOr<SnapshotFacts> ParseSnapshotDocument(std::string_view plaintext) {
  // Checked apart from parsing so that the message can say which of the two it was.
  if (base::NestsDeeperThan(plaintext)) {
    return Invalid("it nests deeper than " + std::to_string(base::kMaxJsonDepth) + " levels");
  }
  // The depth was checked just above: parse without scanning up to 16 MiB a second time.
  const json doc = json::parse(plaintext, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Invalid("it is not JSON");
  if (!doc.is_object()) return Invalid("it is not a JSON object");
  const json* api_version = Member(doc, "apiVersion");
  if (api_version == nullptr) return FieldError("apiVersion", "is missing");
  if (!api_version->is_string()) return FieldError("apiVersion", "is not a string");
  if (api_version->get_ref<const std::string&>() != kSnapshotFormat) {
    return FieldError("apiVersion", "is not " + std::string(kSnapshotFormat));
  }
  SnapshotFacts facts;
  EPHEMERA_RETURN_IF_ERROR(ReadSections(doc, facts));
  EPHEMERA_RETURN_IF_ERROR(ReadDegraded(doc, facts));
  EPHEMERA_RETURN_IF_ERROR(ReadTargets(doc, facts));
  EPHEMERA_RETURN_IF_ERROR(ReadRedaction(doc, facts));
  EPHEMERA_RETURN_IF_ERROR(ReadOverhead(doc, facts));
  return facts;
}

}  // namespace ephemera::reconciler
