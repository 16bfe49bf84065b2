#include "api/snapshot_document.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "base/json_access.h"
#include "base/json_depth.h"

namespace ephemera::api {
namespace {

using base::ArrayField;
using base::FindField;
using base::IntField;
using base::ObjectField;
using base::StringField;
using nlohmann::json;
namespace field = snapshot_field;

// ---- Tolerant reading ----

SnapshotValue ValueOf(const json* value) {
  SnapshotValue out;
  if (value == nullptr) return out;
  out.present = true;
  if (value->is_null()) {
    out.text = "-";
  } else if (value->is_string()) {
    out.text = value->get<std::string>();
  } else if (value->is_number_integer()) {
    out.integer = value->get<std::int64_t>();
    out.text = std::to_string(*out.integer);
  } else if (value->is_boolean()) {
    out.text = value->get<bool>() ? "true" : "false";
  } else {
    out.text = value->dump();
  }
  return out;
}

SnapshotValue ValueField(const json& object, std::string_view key) {
  return ValueOf(FindField(object, key));
}

// The array member `key` as a list of T read by `read`, or nullopt when it is not an array.
template <typename T, typename Read>
std::optional<std::vector<T>> ListField(const json& object, std::string_view key, Read read) {
  const json* array = FindField(object, key);
  if (array == nullptr || !array->is_array()) return std::nullopt;
  std::vector<T> out;
  out.reserve(array->size());
  for (const json& entry : *array) out.push_back(read(entry));
  return out;
}

SnapshotFrame ReadFrame(const json& frame) {
  return {StringField(frame, "pc"), StringField(frame, "symbol"), IntField(frame, "offset"),
          StringField(frame, "module")};
}

SnapshotThread ReadThread(const json& thread) {
  SnapshotThread out{ValueField(thread, "tid"), StringField(thread, "name"),
                     StringField(thread, "state"), StringField(thread, "wchan"), std::nullopt};
  if (const json* stack = ObjectField(thread, "stack"); stack != nullptr) {
    SnapshotStack s{StringField(*stack, "unwind"), ValueField(*stack, "freezeMicros"), {}};
    for (const json& frame : ArrayField(*stack, "frames")) s.frames.push_back(ReadFrame(frame));
    out.stack = std::move(s);
  }
  return out;
}

SnapshotMaps ReadMaps(const json& maps) {
  SnapshotMaps out;
  out.count = ValueField(maps, "count");
  out.bytes = IntField(maps, "bytes");
  if (const json* by_kind = ObjectField(maps, "byKind"); by_kind != nullptr) {
    out.by_kind.emplace();
    for (const auto& [kind, value] : by_kind->items()) {
      out.by_kind->push_back({kind, ValueField(value, "count"), IntField(value, "bytes")});
    }
  }
  for (const json& file : ArrayField(maps, "files")) {
    out.files.push_back(
        {StringField(file, "path"), ValueField(file, "count"), IntField(file, "bytes")});
  }
  if (const json* other = ObjectField(maps, "otherFiles"); other != nullptr) {
    out.other_files = SnapshotOtherFiles{ValueField(*other, "files"), IntField(*other, "bytes")};
  }
  for (const json& mapping : ArrayField(maps, "largest")) {
    out.largest.push_back({StringField(mapping, "start"), StringField(mapping, "end"),
                           IntField(mapping, "bytes"), StringField(mapping, "perms"),
                           StringField(mapping, "kind"), StringField(mapping, "path")});
  }
  return out;
}

SnapshotCgroup ReadCgroup(const json& cgroup) {
  return {ValueField(cgroup, "version"),        StringField(cgroup, "source"),
          StringField(cgroup, "cpuPath"),       StringField(cgroup, "memoryPath"),
          IntField(cgroup, "cpuUsageNanos"),    IntField(cgroup, "cpuQuotaMicros"),
          IntField(cgroup, "cpuPeriodMicros"),  IntField(cgroup, "nrPeriods"),
          IntField(cgroup, "nrThrottled"),      IntField(cgroup, "throttledNanos"),
          IntField(cgroup, "memoryUsageBytes"), ValueField(cgroup, "memoryLimitBytes")};
}

std::optional<double> DoubleField(const json& object, std::string_view key) {
  const json* value = FindField(object, key);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  return value->get<double>();
}

std::optional<bool> BoolField(const json& object, std::string_view key) {
  const json* value = FindField(object, key);
  if (value == nullptr || !value->is_boolean()) return std::nullopt;
  return value->get<bool>();
}

// The display text of the first `max` entries of the array member `key`.
std::vector<std::string> TextList(const json& object, std::string_view key, std::size_t max) {
  std::vector<std::string> out;
  for (const json& entry : ArrayField(object, key)) {
    if (out.size() >= max) break;
    out.push_back(ValueOf(&entry).text);
  }
  return out;
}

SnapshotBlockedThread ReadBlockedThread(const json& thread) {
  namespace pf = process_field;
  return {ValueField(thread, pf::kTid), StringField(thread, pf::kName),
          StringField(thread, pf::kWchan)};
}

// The object entries of the array member `key` read by `read`, at most `max`; sets `*cut` when
// entries were left beyond the bound.
template <typename T, typename Read>
std::vector<T> BoundedObjects(const json& object, std::string_view key, std::size_t max, Read read,
                              bool* cut = nullptr) {
  std::vector<T> out;
  for (const json& entry : ArrayField(object, key)) {
    if (!entry.is_object()) continue;
    if (out.size() >= max) {
      if (cut != nullptr) *cut = true;
      break;
    }
    out.push_back(read(entry));
  }
  return out;
}

SnapshotSourceFrame ReadSourceFrame(const json& frame) {
  namespace rf = runtime_field;
  SnapshotSourceFrame out{StringField(frame, rf::kFunction),
                          StringField(frame, rf::kFile),
                          IntField(frame, rf::kLine),
                          {}};
  if (out.line.has_value() && *out.line <= 0) out.line.reset();
  out.locks = BoundedObjects<SnapshotLockNote>(
      frame, rf::kLocks, kMaxReadRuntimeLocks, [](const json& lock) {
        return SnapshotLockNote{StringField(lock, rf::kAction), StringField(lock, rf::kClass),
                                ValueField(lock, rf::kId).text};
      });
  return out;
}

SnapshotRuntimeGroup ReadRuntimeGroup(const json& group) {
  namespace rf = runtime_field;
  SnapshotRuntimeGroup out;
  out.state = StringField(group, rf::kState);
  if (const json* wait = ObjectField(group, rf::kWaitSeconds); wait != nullptr) {
    auto min = IntField(*wait, rf::kMin);
    auto max = IntField(*wait, rf::kMax);
    if (min.has_value() && max.has_value() && *min >= 0 && *max >= *min) {
      out.min_wait_seconds = min;
      out.max_wait_seconds = max;
    }
  }
  out.members = BoundedObjects<SnapshotRuntimeMember>(
      group, rf::kMembers, kMaxRuntimeGroupMembers, [](const json& member) {
        return SnapshotRuntimeMember{ValueField(member, rf::kId).text,
                                     StringField(member, rf::kName), IntField(member, rf::kTid)};
      });
  out.count = std::max(IntField(group, rf::kCount).value_or(0),
                       static_cast<std::int64_t>(out.members.size()));
  out.frames = BoundedObjects<SnapshotSourceFrame>(group, rf::kFrames, kMaxReadRuntimeFrames,
                                                   ReadSourceFrame, &out.frames_truncated);
  if (BoolField(group, rf::kFramesTruncated).value_or(false)) out.frames_truncated = true;
  return out;
}

SnapshotRuntime ReadRuntime(const json& runtime) {
  namespace rf = runtime_field;
  SnapshotRuntime out;
  out.language = StringField(runtime, rf::kLanguage);
  out.version = StringField(runtime, rf::kVersion);
  out.method = StringField(runtime, rf::kMethod);
  out.freeze_micros = IntField(runtime, rf::kFreezeMicros);
  out.count = IntField(runtime, rf::kCount);
  const json& groups = ArrayField(runtime, rf::kGroups);
  std::int64_t beyond = 0;
  for (const json& group : groups) {
    if (!group.is_object()) continue;
    if (out.groups.size() >= kMaxRuntimeGroups) {
      ++beyond;
      continue;
    }
    out.groups.push_back(ReadRuntimeGroup(group));
  }
  const std::int64_t omitted =
      std::max<std::int64_t>(IntField(runtime, rf::kGroupsOmitted).value_or(0), 0);
  out.groups_omitted = omitted > std::numeric_limits<std::int64_t>::max() - beyond
                           ? std::numeric_limits<std::int64_t>::max()
                           : omitted + beyond;
  out.deadlocks = BoundedObjects<SnapshotDeadlock>(
      runtime, rf::kDeadlocks, kMaxReadRuntimeDeadlocks, [](const json& deadlock) {
        return SnapshotDeadlock{TextList(deadlock, rf::kMembers, kMaxReadRuntimeDeadlockMembers),
                                StringField(deadlock, rf::kDescription)};
      });
  return out;
}

SnapshotProcess ReadProcess(const json& process) {
  SnapshotProcess out;
  out.pid = IntField(process, "pid").value_or(0);
  out.ppid = ValueField(process, "ppid");
  out.name = StringField(process, "name");
  out.state = StringField(process, "state");
  out.state_name = StringField(process, "stateName");
  if (const json* cmdline = FindField(process, "cmdline"); cmdline != nullptr) {
    out.cmdline = ValueOf(cmdline).text;
  }
  out.thread_count = ValueField(process, "threadCount");
  if (const json* memory = ObjectField(process, "memory"); memory != nullptr) {
    out.memory = SnapshotMemory{IntField(*memory, "vmSizeKiB"), IntField(*memory, "vmRssKiB"),
                                IntField(*memory, "vmHwmKiB")};
  }
  if (const json* cpu = ObjectField(process, "cpu"); cpu != nullptr) {
    out.cpu = SnapshotCpu{ValueField(*cpu, "userMillis"), ValueField(*cpu, "systemMillis"),
                          IntField(*cpu, "lastProcessor")};
  }
  if (const json* switches = ObjectField(process, "contextSwitches"); switches != nullptr) {
    out.context_switches = SnapshotContextSwitches{ValueField(*switches, "voluntary"),
                                                   ValueField(*switches, "nonvoluntary")};
  }
  if (const json* uids = ObjectField(process, "uids"); uids != nullptr) {
    out.uids = SnapshotIds{ValueField(*uids, "real"), ValueField(*uids, "effective")};
  }
  if (const json* gids = ObjectField(process, "gids"); gids != nullptr) {
    out.gids = SnapshotIds{ValueField(*gids, "real"), ValueField(*gids, "effective")};
  }
  if (const json* caps = ObjectField(process, "capabilities"); caps != nullptr) {
    out.capabilities =
        SnapshotCapabilities{StringField(*caps, "effective"), StringField(*caps, "permitted"),
                             StringField(*caps, "bounding")};
  }
  if (const json* io = ObjectField(process, "io"); io != nullptr) {
    out.io = SnapshotIo{IntField(*io, "rchar"), IntField(*io, "wchar")};
  }
  if (const json* threads = FindField(process, "threads");
      threads != nullptr && threads->is_array()) {
    out.thread_entries = threads->size();
    out.threads.emplace();
    for (const json& thread : *threads) {
      if (thread.is_object()) out.threads->push_back(ReadThread(thread));
    }
  }
  out.fd_count = ValueField(process, process_field::kFdCount);
  if (const json* blocked = FindField(process, process_field::kBlockedThreads);
      blocked != nullptr && blocked->is_array()) {
    out.blocked_thread_entries = blocked->size();
    out.blocked_threads.emplace();
    for (const json& thread : *blocked) {
      if (out.blocked_threads->size() >= kMaxReadBlockedThreads) break;
      if (thread.is_object()) out.blocked_threads->push_back(ReadBlockedThread(thread));
    }
  }
  out.fds = ListField<SnapshotFd>(process, "fds", [](const json& fd) {
    return SnapshotFd{ValueField(fd, "fd"), StringField(fd, "type"), StringField(fd, "target")};
  });
  out.sockets = ListField<SnapshotSocket>(process, "sockets", [](const json& socket) {
    return SnapshotSocket{ValueField(socket, "fd"),
                          ValueField(socket, "inode"),
                          StringField(socket, "protocol"),
                          StringField(socket, "local"),
                          StringField(socket, "remote"),
                          StringField(socket, "state"),
                          StringField(socket, "type"),
                          StringField(socket, "path"),
                          IntField(socket, process_field::kSendQueueBytes),
                          IntField(socket, process_field::kReceiveQueueBytes),
                          IntField(socket, process_field::kAcceptQueue)};
  });
  if (const json* maps = ObjectField(process, "maps"); maps != nullptr) out.maps = ReadMaps(*maps);
  if (const json* cgroup = ObjectField(process, "cgroup"); cgroup != nullptr) {
    out.cgroup = ReadCgroup(*cgroup);
  }
  out.limits = ListField<SnapshotLimit>(process, "limits", [](const json& limit) {
    return SnapshotLimit{StringField(limit, "name"), ValueField(limit, "soft"),
                         ValueField(limit, "hard"), StringField(limit, "units")};
  });
  out.env = ListField<SnapshotEnvVar>(process, "env", [](const json& variable) {
    SnapshotEnvVar out_var{StringField(variable, "name"), std::nullopt};
    if (const json* value = FindField(variable, "value"); value != nullptr) {
      out_var.value = ValueOf(value).text;
    }
    return out_var;
  });
  if (const json* runtime = ObjectField(process, runtime_field::kRuntime); runtime != nullptr) {
    out.runtime = ReadRuntime(*runtime);
  }
  return out;
}

SnapshotRedaction ReadRedaction(const json& redaction) {
  SnapshotRedaction out;
  if (const json* pii = FindField(redaction, field::kPii); pii != nullptr) {
    out.pii = ValueOf(pii).text;
  }
  out.env_redacted = ValueField(redaction, field::kEnvRedacted);
  if (const json* patterns = ObjectField(redaction, field::kPatternsMatched); patterns != nullptr) {
    for (const auto& [rule, count] : patterns->items()) {
      out.patterns_matched.push_back({rule, ValueOf(&count)});
    }
  }
  for (const json& dropped : ArrayField(redaction, field::kDroppedFields)) {
    out.dropped_fields.push_back(ValueOf(&dropped).text);
  }
  return out;
}

SnapshotNetworkEvidence ReadNetworkEvidence(const json& network) {
  namespace ef = evidence_field;
  SnapshotNetworkEvidence out;
  if (const json* counters = ObjectField(network, ef::kCounters); counters != nullptr) {
    out.counters.emplace();
    for (const NetworkCounterName& name : kNetworkCounters) {
      if (auto value = IntField(*counters, name.field)) {
        out.counters->push_back({name.field, name.kernel, *value});
      }
    }
  }
  const json& listeners = ArrayField(network, ef::kListeners);
  for (const json& listener : listeners) {
    if (out.listeners.size() >= kMaxReadListeners) {
      out.listeners_truncated = true;
      break;
    }
    if (!listener.is_object()) continue;
    out.listeners.push_back({StringField(listener, ef::kProtocol),
                             StringField(listener, ef::kLocal), ValueField(listener, ef::kInode),
                             IntField(listener, ef::kAcceptQueue)});
  }
  if (BoolField(network, ef::kListenersTruncated).value_or(false)) out.listeners_truncated = true;
  out.somaxconn = IntField(network, ef::kSomaxconn);
  out.errors = TextList(network, ef::kErrors, kMaxReadEvidenceErrors);
  return out;
}

SnapshotPressureLine ReadPressureLine(const json& line) {
  namespace ef = evidence_field;
  return {DoubleField(line, ef::kAvg10), DoubleField(line, ef::kAvg60),
          DoubleField(line, ef::kAvg300), IntField(line, ef::kTotal)};
}

std::optional<SnapshotPressure> ReadPressure(const json& pressure, std::string_view resource) {
  const json* object = ObjectField(pressure, resource);
  if (object == nullptr) return std::nullopt;
  SnapshotPressure out;
  if (const json* some = ObjectField(*object, evidence_field::kSome)) {
    out.some = ReadPressureLine(*some);
  }
  if (const json* full = ObjectField(*object, evidence_field::kFull)) {
    out.full = ReadPressureLine(*full);
  }
  return out;
}

SnapshotMemoryEvidence ReadMemoryEvidence(const json& memory) {
  namespace ef = evidence_field;
  SnapshotMemoryEvidence out;
  out.cgroup_version = ValueField(memory, ef::kCgroupVersion);
  out.cgroup_path = StringField(memory, ef::kCgroupPath);
  if (const json* events = ObjectField(memory, ef::kEvents); events != nullptr) {
    out.events =
        SnapshotMemoryEvents{IntField(*events, ef::kLow),     IntField(*events, ef::kHigh),
                             IntField(*events, ef::kMax),     IntField(*events, ef::kOom),
                             IntField(*events, ef::kOomKill), IntField(*events, ef::kOomGroupKill)};
  }
  if (const json* control = ObjectField(memory, ef::kOomControl); control != nullptr) {
    out.oom_control =
        SnapshotOomControl{BoolField(*control, ef::kOomKillDisable),
                           BoolField(*control, ef::kUnderOom), IntField(*control, ef::kOomKill)};
  }
  out.failcnt = IntField(memory, ef::kFailcnt);
  out.errors = TextList(memory, ef::kErrors, kMaxReadEvidenceErrors);
  return out;
}

SnapshotEvidence ReadEvidence(const json& evidence) {
  namespace ef = evidence_field;
  SnapshotEvidence out;
  if (const json* network = ObjectField(evidence, ef::kNetwork); network != nullptr) {
    out.network = ReadNetworkEvidence(*network);
  }
  if (const json* pressure = ObjectField(evidence, ef::kPressure); pressure != nullptr) {
    SnapshotPressureEvidence p;
    p.source = StringField(*pressure, ef::kSource);
    p.cpu = ReadPressure(*pressure, ef::kCpu);
    p.memory = ReadPressure(*pressure, ef::kMemory);
    p.io = ReadPressure(*pressure, ef::kIo);
    p.errors = TextList(*pressure, ef::kErrors, kMaxReadEvidenceErrors);
    out.pressure = std::move(p);
  }
  if (const json* memory = ObjectField(evidence, ef::kMemory); memory != nullptr) {
    out.memory = ReadMemoryEvidence(*memory);
  }
  return out;
}

SnapshotLogInstance ReadLogInstance(const json& instance) {
  namespace lf = log_field;
  SnapshotLogInstance out;
  out.instance = StringField(instance, lf::kInstance);
  out.restart_count = ValueField(instance, lf::kRestartCount);
  const json& lines = ArrayField(instance, lf::kLines);
  for (const json& line : lines) {
    if (out.lines.size() >= kMaxReadLogLinesPerInstance) {
      out.lines_left_out = lines.size() - out.lines.size();
      break;
    }
    out.lines.push_back(ValueOf(&line).text);
  }
  out.line_count = IntField(instance, lf::kLineCount);
  out.bytes = IntField(instance, lf::kBytes);
  out.truncated = BoolField(instance, lf::kTruncated);
  out.dropped_lines = IntField(instance, lf::kDroppedLines);
  if (const json* termination = ObjectField(instance, lf::kTermination); termination != nullptr) {
    out.termination = SnapshotTermination{
        IntField(*termination, lf::kExitCode), IntField(*termination, lf::kSignal),
        StringField(*termination, lf::kReason), StringField(*termination, lf::kStartedAt),
        StringField(*termination, lf::kFinishedAt)};
  }
  if (const json* error = FindField(instance, lf::kError); error != nullptr) {
    out.error = ValueOf(error).text;
  }
  return out;
}

SnapshotLogs ReadLogs(const json& logs) {
  namespace lf = log_field;
  SnapshotLogs out;
  out.container = StringField(logs, lf::kContainer);
  if (const json* limits = ObjectField(logs, lf::kLimits); limits != nullptr) {
    out.limits =
        SnapshotLogLimits{IntField(*limits, lf::kTailLines), IntField(*limits, lf::kLimitBytes),
                          IntField(*limits, lf::kSinceSeconds)};
  }
  for (const json& instance : ArrayField(logs, lf::kInstances)) {
    if (out.instances.size() >= kMaxReadLogInstances) break;
    if (instance.is_object()) out.instances.push_back(ReadLogInstance(instance));
  }
  return out;
}

// ---- Validation ----

std::string TypeName(const json& value) { return value.type_name(); }

// A top-level field that, when present, must have the given type for the document to make sense.
Status CheckTopLevelType(const json& snapshot, std::string_view key, json::value_t expected) {
  const json* value = FindField(snapshot, key);
  if (value == nullptr || value->type() == expected) return OkStatus();
  return InvalidArgumentError("not a valid snapshot document: \"" + std::string(key) + "\" is " +
                              TypeName(*value) + ", expected " + TypeName(json(expected)));
}

// ---- The strict facts ----

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

std::string Dotted(std::string_view parent, std::string_view key) {
  return std::string(parent) + "." + std::string(key);
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
Status ReadOptionalCount(const json& object, std::string_view key, std::string_view parent,
                         std::int64_t& out) {
  const json* value = FindField(object, key);
  if (value == nullptr) return OkStatus();
  if (auto problem = ReadCount(*value, out)) return FieldError(Dotted(parent, key), *problem);
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
  const std::string path(field::kSections);
  const json* sections = FindField(doc, field::kSections);
  if (sections == nullptr) return OkStatus();
  if (!sections->is_array()) return FieldError(path, "is not an array");
  if (sections->size() > kMaxSections) {
    return FieldError(path, "has more than " + std::to_string(kMaxSections) + " entries");
  }
  for (std::size_t i = 0; i < sections->size(); ++i) {
    const json& section = (*sections)[i];
    if (!section.is_string()) return FieldError(Indexed(path, i), "is not a string");
    const auto& name = section.get_ref<const std::string&>();
    if (name.size() > kMaxSectionNameBytes) {
      return FieldError(Indexed(path, i),
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
  if (const json* value = FindField(entry, field::kSection)) {
    if (!value->is_string()) return FieldError(Dotted(path, field::kSection), "is not a string");
    section = Cut(value->get_ref<const std::string&>(), kMaxDegradedTextBytes);
  }
  std::optional<std::int64_t> pid;
  if (const json* value = FindField(entry, field::kPid); value != nullptr && !value->is_null()) {
    std::int64_t n = 0;
    if (auto problem = ReadCount(*value, n)) return FieldError(Dotted(path, field::kPid), *problem);
    pid = n;
  }
  if (const json* value = FindField(entry, field::kReason)) {
    if (!value->is_string()) return FieldError(Dotted(path, field::kReason), "is not a string");
    reason = Cut(value->get_ref<const std::string&>(), kMaxDegradedTextBytes);
  }
  std::string line = section;
  if (pid) line += " pid " + std::to_string(*pid);
  return line + ": " + reason;
}

Status ReadDegraded(const json& doc, SnapshotFacts& facts) {
  const std::string path(field::kDegraded);
  const json* degraded = FindField(doc, field::kDegraded);
  if (degraded == nullptr) return OkStatus();
  if (!degraded->is_array()) return FieldError(path, "is not an array");
  // Every entry is checked; only the first ones are listed.
  for (std::size_t i = 0; i < degraded->size(); ++i) {
    auto line = DegradedLine((*degraded)[i], Indexed(path, i));
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
  const json* targets = FindField(doc, field::kTargets);
  if (targets == nullptr) return OkStatus();
  if (!targets->is_object()) return FieldError(std::string(field::kTargets), "is not an object");
  const std::string path = Dotted(field::kTargets, field::kPids);
  const json* pids = FindField(*targets, field::kPids);
  if (pids == nullptr) return OkStatus();
  if (!pids->is_array()) return FieldError(path, "is not an array");
  if (pids->size() > kMaxPids) {
    return FieldError(path, "has more than " + std::to_string(kMaxPids) + " entries");
  }
  for (std::size_t i = 0; i < pids->size(); ++i) {
    std::int64_t pid = 0;
    if (auto problem = ReadCount((*pids)[i], pid)) return FieldError(Indexed(path, i), *problem);
    if (pid > kMaxPid) {
      return FieldError(Indexed(path, i),
                        "is larger than any process id (" + std::to_string(kMaxPid) + ")");
    }
    facts.pids.push_back(pid);
  }
  return OkStatus();
}

Status ReadRedactionFacts(const json& doc, SnapshotFacts& facts) {
  const std::string_view parent = field::kRedaction;
  const json* redaction = FindField(doc, parent);
  if (redaction == nullptr) return OkStatus();
  if (!redaction->is_object()) return FieldError(std::string(parent), "is not an object");
  EPHEMERA_RETURN_IF_ERROR(
      ReadOptionalCount(*redaction, field::kEnvRedacted, parent, facts.redaction.env_redacted));
  if (const json* patterns = FindField(*redaction, field::kPatternsMatched)) {
    const std::string path = Dotted(parent, field::kPatternsMatched);
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
      std::int64_t& total = facts.redaction.text_redacted;
      total = n > std::numeric_limits<std::int64_t>::max() - total
                  ? std::numeric_limits<std::int64_t>::max()
                  : total + n;
    }
  }
  if (const json* dropped = FindField(*redaction, field::kDroppedFields)) {
    if (!dropped->is_array()) {
      return FieldError(Dotted(parent, field::kDroppedFields), "is not an array");
    }
    facts.redaction.dropped_fields = static_cast<std::int64_t>(dropped->size());
  }
  return OkStatus();
}

Status ReadOverhead(const json& doc, SnapshotFacts& facts) {
  const std::string_view parent = field::kOverhead;
  const json* overhead = FindField(doc, parent);
  if (overhead == nullptr) return OkStatus();
  if (!overhead->is_object()) return FieldError(std::string(parent), "is not an object");
  EPHEMERA_RETURN_IF_ERROR(ReadOptionalCount(*overhead, field::kTargetFreezeMicros, parent,
                                             facts.overhead.target_freeze_micros));
  EPHEMERA_RETURN_IF_ERROR(
      ReadOptionalCount(*overhead, field::kToolCpuMillis, parent, facts.overhead.tool_cpu_millis));
  EPHEMERA_RETURN_IF_ERROR(
      ReadOptionalCount(*overhead, field::kToolMaxRssKiB, parent, facts.overhead.tool_max_rss_kib));
  if (const json* reached = FindField(*overhead, field::kBudgetReached)) {
    if (!reached->is_string() ||
        (*reached != kBudgetCpu && *reached != kBudgetMemory && *reached != kBudgetWall)) {
      return FieldError(Dotted(parent, field::kBudgetReached), "is not cpu, memory or wall");
    }
    facts.overhead.budget_reached = reached->get<std::string>();
  }
  return ReadOptionalCount(*overhead, field::kWallMillis, parent, facts.overhead.wall_millis);
}

}  // namespace

std::optional<std::int64_t> SnapshotNetworkEvidence::Counter(std::string_view field) const {
  if (!counters.has_value()) return std::nullopt;
  for (const SnapshotNetworkCounter& counter : *counters) {
    if (counter.field == field) return counter.value;
  }
  return std::nullopt;
}

bool SnapshotDocument::Requested(std::string_view section) const {
  return std::find(sections.begin(), sections.end(), section) != sections.end();
}

std::string SnapshotDocument::DegradedReason(std::int64_t pid, std::string_view section) const {
  std::string reason;
  for (const SnapshotDegraded& entry : degraded) {
    if (entry.pid.integer == pid && entry.section == section) reason = entry.reason;
  }
  return reason;
}

std::size_t SnapshotDocument::DegradedCount(std::int64_t pid) const {
  return static_cast<std::size_t>(
      std::count_if(degraded.begin(), degraded.end(),
                    [&](const SnapshotDegraded& entry) { return entry.pid.integer == pid; }));
}

Status ValidateSnapshot(const json& snapshot) {
  if (!snapshot.is_object()) {
    return InvalidArgumentError("not a snapshot document: expected a JSON object, got " +
                                TypeName(snapshot));
  }
  const json* api_version = FindField(snapshot, field::kApiVersion);
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
  if (StringField(snapshot, field::kKind) != kSnapshotKind) {
    return InvalidArgumentError("not a snapshot document: \"kind\" is not \"Snapshot\"");
  }
  const std::array<std::pair<std::string_view, json::value_t>, 9> shapes = {{
      {field::kTool, json::value_t::object},
      {field::kBudget, json::value_t::object},
      {field::kTargets, json::value_t::object},
      {field::kSections, json::value_t::array},
      {field::kProcessTree, json::value_t::array},
      {field::kProcesses, json::value_t::array},
      {field::kRedaction, json::value_t::object},
      {field::kDegraded, json::value_t::array},
      {field::kOverhead, json::value_t::object},
  }};
  for (const auto& [key, type] : shapes) {
    EPHEMERA_RETURN_IF_ERROR(CheckTopLevelType(snapshot, key, type));
  }
  for (const json& process : ArrayField(snapshot, field::kProcesses)) {
    if (!process.is_object() || !IntField(process, "pid").has_value()) {
      return InvalidArgumentError(
          "not a valid snapshot document: every entry of \"processes\" must be an object with "
          "an integer \"pid\"");
    }
  }
  return OkStatus();
}

SnapshotDocument ReadSnapshotDocument(const json& snapshot) {
  SnapshotDocument doc;
  doc.api_version = StringField(snapshot, field::kApiVersion);
  doc.capture_time = StringField(snapshot, field::kCaptureTime);
  if (const json* tool = ObjectField(snapshot, field::kTool); tool != nullptr) {
    doc.tool = SnapshotTool{StringField(*tool, "name"), StringField(*tool, "version"),
                            StringField(*tool, "profile")};
  }
  if (const json* budget = ObjectField(snapshot, field::kBudget); budget != nullptr) {
    doc.budget = SnapshotBudget{
        IntField(*budget, field::kDeadlineMillis), IntField(*budget, field::kMaxOutputBytes),
        IntField(*budget, field::kCpuMillis), IntField(*budget, field::kMemoryBytes)};
  }
  if (const json* targets = ObjectField(snapshot, field::kTargets); targets != nullptr) {
    doc.targets = SnapshotTargets{IntField(*targets, field::kMainPid),
                                  ArrayField(*targets, field::kPids).size()};
  }
  for (const json& section : ArrayField(snapshot, field::kSections)) {
    if (section.is_string()) doc.sections.push_back(section.get<std::string>());
  }
  for (const json& entry : ArrayField(snapshot, field::kProcessTree)) {
    SnapshotTreeEntry node{
        IntField(entry, "pid"), IntField(entry, "ppid"), StringField(entry, "name"), {}};
    for (const json& child : ArrayField(entry, "children")) {
      if (child.is_number_integer()) node.children.push_back(child.get<std::int64_t>());
    }
    doc.process_tree.push_back(std::move(node));
  }
  for (const json& process : ArrayField(snapshot, field::kProcesses)) {
    if (process.is_object()) doc.processes.push_back(ReadProcess(process));
  }
  if (const json* redaction = ObjectField(snapshot, field::kRedaction); redaction != nullptr) {
    doc.redaction = ReadRedaction(*redaction);
  }
  for (const json& entry : ArrayField(snapshot, field::kDegraded)) {
    doc.degraded.push_back({StringField(entry, field::kSection), ValueField(entry, field::kPid),
                            ValueField(entry, field::kTid), StringField(entry, field::kReason)});
  }
  if (const json* overhead = ObjectField(snapshot, field::kOverhead); overhead != nullptr) {
    doc.overhead = SnapshotOverhead{IntField(*overhead, field::kTargetFreezeMicros),
                                    IntField(*overhead, field::kTargetMaxThreadFreezeMicros),
                                    IntField(*overhead, field::kToolCpuMillis),
                                    IntField(*overhead, field::kToolMaxRssKiB),
                                    IntField(*overhead, field::kWallMillis),
                                    std::nullopt};
    if (const json* reached = FindField(*overhead, field::kBudgetReached); reached != nullptr) {
      doc.overhead->budget_reached = ValueOf(reached).text;
    }
  }
  if (const json* evidence = ObjectField(snapshot, field::kEvidence); evidence != nullptr) {
    doc.evidence = ReadEvidence(*evidence);
  }
  if (const json* logs = ObjectField(snapshot, field::kLogs); logs != nullptr) {
    doc.logs = ReadLogs(*logs);
  }
  return doc;
}

StatusOr<SnapshotFacts> ParseSnapshotDocument(std::string_view plaintext) {
  // Checked apart from parsing so that the message can say which of the two it was.
  if (base::NestsDeeperThan(plaintext)) {
    return Invalid("it nests deeper than " + std::to_string(base::kMaxJsonDepth) + " levels");
  }
  // The depth was checked just above: parse without scanning up to 16 MiB a second time.
  const json doc = json::parse(plaintext, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Invalid("it is not JSON");
  if (!doc.is_object()) return Invalid("it is not a JSON object");
  const std::string version_path(field::kApiVersion);
  const json* api_version = FindField(doc, field::kApiVersion);
  if (api_version == nullptr) return FieldError(version_path, "is missing");
  if (!api_version->is_string()) return FieldError(version_path, "is not a string");
  if (api_version->get_ref<const std::string&>() != kSnapshotApiVersion) {
    return FieldError(version_path, "is not " + std::string(kSnapshotApiVersion));
  }
  SnapshotFacts facts;
  EPHEMERA_RETURN_IF_ERROR(ReadSections(doc, facts));
  EPHEMERA_RETURN_IF_ERROR(ReadDegraded(doc, facts));
  EPHEMERA_RETURN_IF_ERROR(ReadTargets(doc, facts));
  EPHEMERA_RETURN_IF_ERROR(ReadRedactionFacts(doc, facts));
  EPHEMERA_RETURN_IF_ERROR(ReadOverhead(doc, facts));
  return facts;
}

}  // namespace ephemera::api
