// The findings the reports open with (report_model.h). Each check reads only figures the document
// holds as integers of a sane sign; anything else makes no finding, so a damaged or hostile
// document yields fewer findings, never a wrong or a crashing one.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/rfc3339.h"
#include "cli/report/report_model.h"

namespace ephemera::report {
namespace {

namespace ef = api::evidence_field;

// Whether part / whole >= ratio, for whole > 0 and part >= 0 (in double: no overflow on int64).
bool AtLeast(std::int64_t part, std::int64_t whole, double ratio) {
  return whole > 0 && part >= 0 && static_cast<double>(part) >= ratio * static_cast<double>(whole);
}

double Share(std::int64_t part, std::int64_t whole) {
  return static_cast<double>(part) / static_cast<double>(whole);
}

std::string ProcessLabel(const api::SnapshotProcess& process) {
  return "pid " + std::to_string(process.pid) + (process.name.empty() ? "" : " " + process.name);
}

bool IsFutexWait(std::string_view wchan) { return wchan.find("futex") != std::string_view::npos; }

class FindingsBuilder {
 public:
  explicit FindingsBuilder(const api::SnapshotDocument& doc) : doc_(doc) {}

  FindingsModel Build() {
    RuntimeDeadlocks();
    AcceptQueues();
    CpuThrottling();
    FdsNearLimit();
    MemoryNearLimit();
    OomKills();
    BlockedThreads();
    FutexConvoys();
    RuntimeWaits();
    KilledInstances();
    return std::move(out_);
  }

 private:
  void Add(std::string kind, std::string title, std::string evidence, bool critical = false) {
    if (out_.findings.size() >= kMaxFindings) {
      ++out_.left_out;
      return;
    }
    out_.findings.push_back({std::move(kind), std::move(title), std::move(evidence), critical});
  }

  // A deadlock the runtime itself found (the JVM's "Found one Java-level deadlock"): the threads
  // in it never run again.
  void RuntimeDeadlocks() {
    for (const api::SnapshotProcess& process : doc_.processes) {
      if (!process.runtime.has_value()) continue;
      const api::SnapshotRuntime& runtime = *process.runtime;
      for (const api::SnapshotDeadlock& deadlock : runtime.deadlocks) {
        std::string title = LanguageName(runtime.language) + " deadlock in " +
                            ProcessLabel(process) + ": " + DeadlockedThreads(deadlock) +
                            " wait for each other";
        std::string evidence = "runtime.deadlocks of " + ProcessLabel(process);
        const std::size_t line_end = deadlock.description.find('\n');
        if (!deadlock.description.empty()) {
          evidence += ": " + deadlock.description.substr(0, line_end) +
                      (line_end == std::string::npos ? "" : " …");
        }
        Add("runtime-deadlock", title,
            evidence + "; see the stacks of process " + std::to_string(process.pid), true);
      }
    }
  }

  // Many goroutines / threads waiting long in one place: a channel nobody sends on, a lock held
  // too long, a pool that never returns (thresholds in report_model.h).
  void RuntimeWaits() {
    for (const api::SnapshotProcess& process : doc_.processes) {
      if (!process.runtime.has_value()) continue;
      const api::SnapshotRuntime& runtime = *process.runtime;
      const std::int64_t total = RuntimeTotal(runtime);
      for (const api::SnapshotRuntimeGroup& group : runtime.groups) {
        if (group.min_wait_seconds.value_or(-1) < kRuntimeWaitLong.count()) continue;
        const bool many = group.count >= kRuntimeWaitGroupMembers;
        const bool most = group.count >= kRuntimeWaitMinMembers &&
                          AtLeast(group.count, total, kRuntimeWaitGroupShare);
        if (!many && !most) continue;
        std::string title = RuntimeMembers(runtime.language, group.count) + " blocked" +
                            (group.state.empty() ? "" : " in " + group.state) + " for " +
                            WaitText(group);
        std::string evidence = ProcessLabel(process) + ": " + std::to_string(group.count) + " of " +
                               RuntimeMembers(runtime.language, total);
        if (total > 0) evidence += " (" + FormatPercent(Share(group.count, total)) + ")";
        evidence += " share one stack";
        if (!group.frames.empty()) {
          const api::SnapshotSourceFrame& frame =
              group.frames[ApplicationFrameIndex(runtime.language, group.frames)];
          const std::string where = FrameLocation(frame, /*base_name=*/true);
          title += " at " + frame.function + (where.empty() ? "" : " (" + where + ")");
          std::vector<std::string> frames;
          for (const api::SnapshotSourceFrame& f : group.frames) {
            if (frames.size() >= 4) break;
            frames.push_back(f.function);
          }
          evidence += ", " + Join(frames, " <- ") + (group.frames.size() > 4 ? " <- ..." : "");
        }
        Add("runtime-wait", title,
            evidence + "; see the stacks of process " + std::to_string(process.pid));
      }
    }
  }

  const api::SnapshotNetworkEvidence* Network() const {
    if (!doc_.evidence.has_value() || !doc_.evidence->network.has_value()) return nullptr;
    return &*doc_.evidence->network;
  }

  // The listeners of the evidence; else those the processes' socket lists show (an older tool, or
  // the evidence dropped by the output cap).
  std::vector<api::SnapshotListener> Listeners() const {
    if (const auto* network = Network(); network != nullptr && !network->listeners.empty()) {
      return network->listeners;
    }
    std::vector<api::SnapshotListener> out;
    std::set<std::string> seen;
    for (const api::SnapshotProcess& process : doc_.processes) {
      if (!process.sockets.has_value()) continue;
      for (const api::SnapshotSocket& socket : *process.sockets) {
        if (!socket.accept_queue.has_value() || !seen.insert(socket.inode.text).second) continue;
        out.push_back({socket.protocol, socket.local, socket.inode, socket.accept_queue});
        if (out.size() >= api::kMaxReadListeners) return out;
      }
    }
    return out;
  }

  void AcceptQueues() {
    const auto* network = Network();
    const std::optional<std::int64_t> somaxconn =
        network != nullptr ? network->somaxconn : std::nullopt;
    const std::optional<std::int64_t> overflows =
        network != nullptr ? network->Counter(ef::kListenOverflows) : std::nullopt;
    std::string overflow_text;
    if (overflows.value_or(0) > 0) {
      overflow_text = "; TcpExt ListenOverflows " + std::to_string(*overflows) +
                      " since the network namespace was created (connections refused a place "
                      "in a full accept queue)";
    }
    bool any = false;
    if (somaxconn.has_value()) {
      for (const api::SnapshotListener& listener : Listeners()) {
        const std::int64_t queue = listener.accept_queue.value_or(-1);
        if (!AtLeast(queue, *somaxconn, kAcceptQueueFullRatio)) continue;
        any = true;
        Add("accept-queue",
            "accept queue of " + listener.local + " full or nearly: " + std::to_string(queue) +
                " connections waiting, limit at most " + std::to_string(*somaxconn) +
                " (somaxconn)",
            "listener " + listener.protocol + " " + listener.local + ": acceptQueue " +
                std::to_string(queue) + ", " + FormatPercent(Share(queue, *somaxconn)) +
                " of net.core.somaxconn " + std::to_string(*somaxconn) +
                " (the listen() backlog may be lower; only sock_diag reports it)" + overflow_text);
      }
    }
    if (!any && overflows.value_or(0) > 0) {
      Add("accept-queue", "listen queues overflowed " + std::to_string(*overflows) + " times",
          "TcpExt ListenOverflows " + std::to_string(*overflows) +
              " since the network namespace was created: a connection found a listener's accept "
              "queue full (the application does not accept() fast enough)");
    }
  }

  void CpuThrottling() {
    std::set<std::string> seen;  // one finding per cgroup: its processes share the figures
    for (const api::SnapshotProcess& process : doc_.processes) {
      if (!process.cgroup.has_value()) continue;
      const api::SnapshotCgroup& cgroup = *process.cgroup;
      const std::int64_t periods = cgroup.nr_periods.value_or(0);
      const std::int64_t throttled = cgroup.nr_throttled.value_or(-1);
      if (!AtLeast(throttled, periods, kCpuThrottledRatio)) continue;
      if (!seen.insert(cgroup.cpu_path).second) continue;
      std::string evidence = "cpu.stat of cgroup " + cgroup.cpu_path + " (" +
                             ProcessLabel(process) + "): " + std::to_string(throttled) + " of " +
                             std::to_string(periods) + " periods throttled";
      if (cgroup.throttled_nanos.value_or(-1) >= 0) {
        evidence += ", " + FormatMicros(*cgroup.throttled_nanos / 1000) + " in total";
      }
      if (cgroup.cpu_quota_micros.value_or(-1) > 0 && cgroup.cpu_period_micros.value_or(0) > 0) {
        evidence += "; quota " + std::to_string(*cgroup.cpu_quota_micros) + " us per " +
                    std::to_string(*cgroup.cpu_period_micros) + " us";
      }
      Add("cpu-throttled",
          "CPU throttled in " + FormatPercent(Share(throttled, periods)) + " of periods", evidence);
    }
  }

  void FdsNearLimit() {
    for (const api::SnapshotProcess& process : doc_.processes) {
      if (!process.fd_count.integer.has_value() || !process.limits.has_value()) continue;
      const std::int64_t open = *process.fd_count.integer;
      for (const api::SnapshotLimit& limit : *process.limits) {
        if (limit.name != "Max open files" || !limit.soft.integer.has_value()) continue;
        const std::int64_t soft = *limit.soft.integer;
        if (AtLeast(open, soft, kFdsNearLimitRatio)) {
          Add("fds-near-limit",
              "fds at " + FormatPercent(Share(open, soft)) + " of the limit (" +
                  std::to_string(open) + " of " + std::to_string(soft) + ")",
              ProcessLabel(process) + ": fdCount " + std::to_string(open) +
                  ", soft RLIMIT_NOFILE (limits \"Max open files\") " + std::to_string(soft));
        }
        break;
      }
    }
  }

  void MemoryNearLimit() {
    std::set<std::string> seen;
    for (const api::SnapshotProcess& process : doc_.processes) {
      if (!process.cgroup.has_value()) continue;
      const api::SnapshotCgroup& cgroup = *process.cgroup;
      const std::int64_t usage = cgroup.memory_usage_bytes.value_or(-1);
      const std::int64_t limit = cgroup.memory_limit_bytes.integer.value_or(0);
      if (!AtLeast(usage, limit, kMemoryNearLimitRatio)) continue;
      if (!seen.insert(cgroup.memory_path).second) continue;
      Add("memory-near-limit",
          "memory at " + FormatPercent(Share(usage, limit)) + " of the limit (" +
              FormatBytes(usage) + " of " + FormatBytes(limit) + ")",
          "memory cgroup " + cgroup.memory_path + " (" + ProcessLabel(process) + "): usage " +
              std::to_string(usage) + " bytes, limit " + std::to_string(limit) + " bytes");
    }
  }

  void OomKills() {
    if (!doc_.evidence.has_value() || !doc_.evidence->memory.has_value()) return;
    const api::SnapshotMemoryEvidence& memory = *doc_.evidence->memory;
    const std::string where = memory.cgroup_path.empty() ? "" : " of cgroup " + memory.cgroup_path;
    if (memory.events.has_value() && memory.events->oom_kill.value_or(0) > 0) {
      const std::int64_t kills = *memory.events->oom_kill;
      std::string evidence = "memory.events" + where + ": oom_kill " + std::to_string(kills);
      if (memory.events->oom.value_or(0) > 0) {
        evidence += ", oom " + std::to_string(*memory.events->oom);
      }
      if (memory.events->max.value_or(0) > 0) {
        evidence += ", max " + std::to_string(*memory.events->max) + " (usage hit the limit)";
      }
      Add("oom-kill",
          Plural(static_cast<std::size_t>(kills), "OOM kill", "OOM kills") +
              " recorded in the memory cgroup",
          evidence);
    }
    if (memory.oom_control.has_value() && memory.oom_control->oom_kill.value_or(0) > 0) {
      const std::int64_t kills = *memory.oom_control->oom_kill;
      std::string evidence = "memory.oom_control" + where + ": oom_kill " + std::to_string(kills);
      if (memory.oom_control->under_oom.value_or(false)) evidence += ", under_oom 1 (stalled now)";
      if (memory.failcnt.value_or(0) > 0) {
        evidence += "; memory.failcnt " + std::to_string(*memory.failcnt);
      }
      Add("oom-kill",
          Plural(static_cast<std::size_t>(kills), "OOM kill", "OOM kills") +
              " recorded in the memory cgroup",
          evidence);
    }
  }

  void BlockedThreads() {
    for (const api::SnapshotProcess& process : doc_.processes) {
      // The blockedThreads list; else the D-state threads of the threads section.
      std::vector<std::pair<std::string, std::string>> blocked;  // label, wchan
      if (process.blocked_threads.has_value()) {
        for (const api::SnapshotBlockedThread& thread : *process.blocked_threads) {
          std::string label = "[" + thread.tid.text + "]";
          blocked.emplace_back(thread.name.empty() ? label : thread.name + " " + label,
                               thread.wchan);
        }
      } else if (process.threads.has_value()) {
        for (const api::SnapshotThread& thread : *process.threads) {
          if (thread.state != "D") continue;
          std::string label = "[" + thread.tid.text + "]";
          blocked.emplace_back(thread.name.empty() ? label : thread.name + " " + label,
                               thread.wchan);
        }
      }
      if (blocked.empty()) continue;
      std::map<std::string, std::size_t> by_wchan;
      for (const auto& [label, wchan] : blocked) ++by_wchan[wchan];
      auto largest =
          std::max_element(by_wchan.begin(), by_wchan.end(),
                           [](const auto& a, const auto& b) { return a.second < b.second; });
      std::vector<std::string> labels;
      for (std::size_t i = 0; i < blocked.size() && i < 8; ++i) {
        labels.push_back(blocked[i].first +
                         (blocked[i].second.empty() ? "" : " on " + blocked[i].second));
      }
      if (blocked.size() > labels.size()) {
        labels.push_back("and " + std::to_string(blocked.size() - labels.size()) + " more");
      }
      std::string title;
      if (largest->second >= kBlockedThreadsOnOneWchan && !largest->first.empty()) {
        title = std::to_string(largest->second) + " threads waiting on the same wchan " +
                largest->first + " (uninterruptible sleep, state D)";
      } else {
        title = Plural(blocked.size(), "thread", "threads") +
                " in uninterruptible sleep (state D): waiting in the kernel";
      }
      Add("blocked-threads", title, ProcessLabel(process) + ": " + Join(labels, ", "));
    }
  }

  void FutexConvoys() {
    for (const api::SnapshotProcess& process : doc_.processes) {
      if (!process.threads.has_value()) continue;
      std::map<std::string, std::vector<const api::SnapshotThread*>> by_stack;
      for (const api::SnapshotThread& thread : *process.threads) {
        if (thread.stack.has_value() && !thread.stack->frames.empty() &&
            IsFutexWait(thread.wchan)) {
          by_stack[StackKey(thread)].push_back(&thread);
        }
      }
      for (const auto& [key, threads] : by_stack) {
        if (threads.size() < kFutexConvoyThreads) continue;
        std::vector<std::string> frames;
        for (const api::SnapshotFrame& frame : threads.front()->stack->frames) {
          if (frames.size() >= 4) break;
          frames.push_back(frame.symbol.empty() ? frame.pc : frame.symbol);
        }
        Add("futex-convoy",
            std::to_string(threads.size()) +
                " threads waiting on a futex with identical stacks (a lock convoy?)",
            ProcessLabel(process) + ": wchan " + threads.front()->wchan + "; stack " +
                Join(frames, " <- ") +
                (threads.front()->stack->frames.size() > frames.size() ? " <- ..." : ""));
      }
    }
  }

  void KilledInstances() {
    if (!doc_.logs.has_value()) return;
    const auto captured = base::ParseRfc3339(doc_.capture_time);
    for (const api::SnapshotLogInstance& instance : doc_.logs->instances) {
      if (!instance.termination.has_value()) continue;
      const api::SnapshotTermination& t = *instance.termination;
      const bool oom_killed = t.reason == "OOMKilled";
      const bool killed = t.exit_code == kKilledExitCode;
      if (!oom_killed && !killed) continue;
      std::string title =
          (instance.instance.empty() ? std::string("an") : instance.instance) + " instance exited";
      if (t.exit_code.has_value()) title += " " + std::to_string(*t.exit_code);
      if (!t.reason.empty()) title += " (" + t.reason + ")";
      const auto finished = base::ParseRfc3339(t.finished_at);
      if (captured.ok() && finished.ok() && *finished <= *captured) {
        title +=
            " " +
            FormatAge(std::chrono::duration_cast<std::chrono::seconds>(*captured - *finished)) +
            " before the capture";
      }
      std::string evidence = "logs.instances (" +
                             (instance.instance.empty() ? std::string("?") : instance.instance) +
                             ") termination of container " + doc_.logs->container + ":";
      if (t.exit_code.has_value()) evidence += " exitCode " + std::to_string(*t.exit_code);
      if (t.signal.has_value()) evidence += ", signal " + std::to_string(*t.signal);
      if (!t.reason.empty()) evidence += ", reason " + t.reason;
      if (!t.finished_at.empty()) evidence += ", finishedAt " + t.finished_at;
      if (instance.restart_count.present) {
        evidence += "; restartCount " + instance.restart_count.text;
      }
      Add("previous-instance-killed", title, evidence);
    }
  }

  const api::SnapshotDocument& doc_;
  FindingsModel out_;
};

}  // namespace

FindingsModel ComputeFindings(const api::SnapshotDocument& document) {
  return FindingsBuilder(document).Build();
}

}  // namespace ephemera::report
