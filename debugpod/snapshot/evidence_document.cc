#include "debugpod/snapshot/evidence_document.h"

#include <optional>
#include <utility>

namespace ephemera::snapshot {
namespace {

namespace ef = api::evidence_field;
namespace pf = api::process_field;
using procfs::DroppedRequestCounters;

// The procfs summary's member for each counter of api::kNetworkCounters, in the same order.
constexpr std::optional<int64_t> DroppedRequestCounters::*kCounterMembers[] = {
    &DroppedRequestCounters::listen_overflows,
    &DroppedRequestCounters::listen_drops,
    &DroppedRequestCounters::syn_queue_full_drops,
    &DroppedRequestCounters::backlog_drops,
    &DroppedRequestCounters::retransmitted_segments,
    &DroppedRequestCounters::retransmission_timeouts,
    &DroppedRequestCounters::syn_retransmits,
    &DroppedRequestCounters::attempt_fails,
    &DroppedRequestCounters::established_resets,
    &DroppedRequestCounters::resets_sent,
    &DroppedRequestCounters::aborts_on_data,
    &DroppedRequestCounters::aborts_on_close,
    &DroppedRequestCounters::aborts_on_memory,
    &DroppedRequestCounters::aborts_on_timeout,
    &DroppedRequestCounters::current_established,
    &DroppedRequestCounters::udp_receive_buffer_errors,
};
static_assert(std::size(kCounterMembers) == api::kNetworkCounters.size(),
              "every counter of the document has a member of the procfs summary");

template <typename T>
void SetIfPresent(Json& object, std::string_view key, const std::optional<T>& value) {
  if (value.has_value()) object[std::string(key)] = *value;
}

Json PressureLineDocument(const procfs::PressureLine& line) {
  Json out;
  out[ef::kAvg10] = line.avg10_percent;
  out[ef::kAvg60] = line.avg60_percent;
  out[ef::kAvg300] = line.avg300_percent;
  out[ef::kTotal] = line.total_micros;
  return out;
}

void SetPressure(Json& object, std::string_view resource,
                 const std::optional<procfs::Pressure>& pressure) {
  if (!pressure.has_value()) return;
  Json out;
  out[ef::kSome] = PressureLineDocument(pressure->some);
  if (pressure->full.has_value()) out[ef::kFull] = PressureLineDocument(*pressure->full);
  object[std::string(resource)] = std::move(out);
}

}  // namespace

Json NetworkEvidenceDocument(const procfs::NetworkEvidence& network) {
  Json out;
  if (network.counters.has_value()) {
    Json counters = Json::object();
    for (size_t i = 0; i < api::kNetworkCounters.size(); ++i) {
      SetIfPresent(counters, api::kNetworkCounters[i].field,
                   (*network.counters).*kCounterMembers[i]);
    }
    out[ef::kCounters] = std::move(counters);
  }
  Json listeners = Json::array();
  for (const procfs::ListenerQueue& listener : network.listeners) {
    Json entry;
    entry[ef::kProtocol] = listener.protocol;
    entry[ef::kLocal] = listener.local;
    entry[ef::kInode] = listener.inode;
    entry[ef::kAcceptQueue] = listener.accept_queue;
    listeners.push_back(std::move(entry));
  }
  out[ef::kListeners] = std::move(listeners);
  out[ef::kListenersTruncated] = network.listeners_truncated;
  SetIfPresent(out, ef::kSomaxconn, network.somaxconn);
  out[ef::kErrors] = network.errors;
  return out;
}

Json PressureEvidenceDocument(const procfs::PressureEvidence& pressure) {
  Json out;
  out[ef::kSource] = pressure.source;
  SetPressure(out, ef::kCpu, pressure.cpu);
  SetPressure(out, ef::kMemory, pressure.memory);
  SetPressure(out, ef::kIo, pressure.io);
  out[ef::kErrors] = pressure.errors;
  return out;
}

Json MemoryEvidenceDocument(const procfs::MemoryEvidence& memory) {
  Json out;
  if (memory.cgroup_version != 0) out[ef::kCgroupVersion] = memory.cgroup_version;
  if (!memory.cgroup_path.empty()) out[ef::kCgroupPath] = memory.cgroup_path;
  if (memory.events.has_value()) {
    const procfs::MemoryEvents& e = *memory.events;
    Json events = Json::object();
    SetIfPresent(events, ef::kLow, e.low);
    SetIfPresent(events, ef::kHigh, e.high);
    SetIfPresent(events, ef::kMax, e.max);
    SetIfPresent(events, ef::kOom, e.oom);
    SetIfPresent(events, ef::kOomKill, e.oom_kill);
    SetIfPresent(events, ef::kOomGroupKill, e.oom_group_kill);
    out[ef::kEvents] = std::move(events);
  }
  if (memory.oom_control.has_value()) {
    Json control;
    control[ef::kOomKillDisable] = memory.oom_control->oom_kill_disable;
    control[ef::kUnderOom] = memory.oom_control->under_oom;
    SetIfPresent(control, ef::kOomKill, memory.oom_control->oom_kill);
    out[ef::kOomControl] = std::move(control);
  }
  SetIfPresent(out, ef::kFailcnt, memory.failcnt);
  out[ef::kErrors] = memory.errors;
  return out;
}

Json BlockedThreadDocument(const procfs::BlockedThread& thread) {
  Json out;
  out[pf::kTid] = thread.tid;
  out[pf::kName] = thread.name;
  out[pf::kWchan] = thread.wchan;
  return out;
}

std::string EvidenceDegradedReason(std::string_view part, const std::vector<std::string>& errors) {
  if (errors.empty()) return "";
  std::string reason = "evidence." + std::string(part) + ": ";
  for (size_t i = 0; i < errors.size(); ++i) reason += (i == 0 ? "" : "; ") + errors[i];
  return reason;
}

}  // namespace ephemera::snapshot
