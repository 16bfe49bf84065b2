// Test doubles for the snapshot builder: a ProcFs over a fixture tree with injectable failures, a
// clock the test moves, a stack source with canned stacks, and the tool's meters set by hand.
#ifndef EPHEMERA_TESTS_DEBUGPOD_SNAPSHOT_FAKES_H_
#define EPHEMERA_TESTS_DEBUGPOD_SNAPSHOT_FAKES_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "base/mutex.h"
#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/snapshot/budget.h"
#include "debugpod/snapshot/stack_source.h"
#include "tests/base/fake_clock.h"

namespace ephemera::snapshot {

using base::FakeClock;

// Reads the fixture tree under tests/testdata/snapshot/proc, except for failures the test injects:
// per (pid, relative path) or for a whole pid ("the process exited"), and file contents it
// replaces (per (pid, relative path); for ReadFile, ReadTaskFile and ReadNetFile).
class FakeProcFs final : public procfs::ProcFs {
 public:
  FakeProcFs() : real_(std::string(EPHEMERA_TESTDATA_DIR) + "/snapshot/proc") {}

  void Fail(int pid, const std::string& relative, Status status) {
    failures_[{pid, relative}] = std::move(status);
  }
  void Exit(int pid) { exited_.insert(pid); }
  void Replace(int pid, const std::string& relative, std::string text) {
    replaced_[{pid, relative}] = std::move(text);
  }
  // Called on every read with the pid and the path relative to /proc/<pid>.
  void OnRead(std::function<void(int pid, std::string_view relative)> hook) {
    hook_ = std::move(hook);
  }

  StatusOr<std::string> ReadFile(int pid, std::string_view relative) const override {
    if (auto s = Injected(pid, relative)) return *s;
    if (auto text = Replaced(pid, relative)) return *text;
    return real_.ReadFile(pid, relative);
  }
  StatusOr<std::string> ReadTaskFile(int pid, int tid, std::string_view relative) const override {
    std::string path = "task/" + std::to_string(tid) + "/" + std::string(relative);
    if (auto s = Injected(pid, path)) return *s;
    if (auto text = Replaced(pid, path)) return *text;
    return real_.ReadTaskFile(pid, tid, relative);
  }
  StatusOr<std::string> ReadLink(int pid, std::string_view relative) const override {
    if (auto s = Injected(pid, relative)) return *s;
    return real_.ReadLink(pid, relative);
  }
  StatusOr<std::string> ReadNetFile(int pid, std::string_view name) const override {
    if (auto s = Injected(pid, "net/" + std::string(name))) return *s;
    if (auto text = Replaced(pid, "net/" + std::string(name))) return *text;
    return real_.ReadNetFile(pid, name);
  }
  StatusOr<std::string> ReadSystemFile(std::string_view relative) const override {
    return real_.ReadSystemFile(relative);
  }
  StatusOr<std::vector<int>> ListPids() const override { return real_.ListPids(); }
  StatusOr<std::vector<int>> ListTasks(int pid) const override {
    if (auto s = Injected(pid, "task")) return *s;
    return real_.ListTasks(pid);
  }
  StatusOr<std::vector<int>> ListFds(int pid) const override {
    if (auto s = Injected(pid, "fd")) return *s;
    return real_.ListFds(pid);
  }

 private:
  std::optional<std::string> Replaced(int pid, std::string_view relative) const {
    auto it = replaced_.find({pid, std::string(relative)});
    if (it == replaced_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Status> Injected(int pid, std::string_view relative) const {
    if (hook_) hook_(pid, relative);
    if (exited_.count(pid) != 0) {
      return NotFoundError("ENOENT: open /proc/" + std::to_string(pid) + "/" +
                           std::string(relative));
    }
    auto it = failures_.find({pid, std::string(relative)});
    if (it == failures_.end()) return std::nullopt;
    return it->second;
  }

  procfs::RealProcFs real_;
  std::map<std::pair<int, std::string>, Status> failures_;
  std::map<std::pair<int, std::string>, std::string> replaced_;
  std::set<int> exited_;
  std::function<void(int, std::string_view)> hook_;
};

// Returns canned stacks per pid (or an error); optionally runs a hook on each capture, e.g. to
// move a FakeClock past the deadline as a slow capture would.
class FakeStackSource final : public StackSource {
 public:
  void Set(int pid, StatusOr<stacks::ProcessStacks> stacks) {
    stacks_.insert_or_assign(pid, std::move(stacks));
  }
  void OnCapture(std::function<void(int pid)> hook) { hook_ = std::move(hook); }
  const std::vector<int>& CapturedPids() const { return captured_pids_; }
  const stacks::StackCaptureOptions& LastOptions() const { return last_options_; }

  StatusOr<stacks::ProcessStacks> Capture(int pid,
                                          const stacks::StackCaptureOptions& options) override {
    captured_pids_.push_back(pid);
    last_options_ = options;
    if (hook_) hook_(pid);
    auto it = stacks_.find(pid);
    if (it == stacks_.end()) return stacks::ProcessStacks{};
    return it->second;
  }

 private:
  std::map<int, StatusOr<stacks::ProcessStacks>> stacks_;
  std::function<void(int)> hook_;
  std::vector<int> captured_pids_;
  stacks::StackCaptureOptions last_options_;
};

// The tool's CPU time and peak RSS, set by hand; counts the RSS reads (they cost a file read in
// production, so the budget rate-limits them). Thread safe.
class FakeToolMeters final : public ToolMeters {
 public:
  void SetCpu(std::chrono::nanoseconds cpu) {
    base::MutexLock lock(mu_);
    cpu_ = cpu;
  }
  void SetPeakRss(std::optional<std::int64_t> bytes) {
    base::MutexLock lock(mu_);
    rss_ = bytes;
  }
  int RssReads() const {
    base::MutexLock lock(mu_);
    return rss_reads_;
  }

  std::chrono::nanoseconds ProcessCpuTime() override {
    base::MutexLock lock(mu_);
    return cpu_;
  }
  std::optional<std::int64_t> PeakRssBytes() override {
    base::MutexLock lock(mu_);
    ++rss_reads_;
    return rss_;
  }

 private:
  mutable base::Mutex mu_;
  std::chrono::nanoseconds cpu_ EPHEMERA_GUARDED_BY(mu_){0};
  std::optional<std::int64_t> rss_ EPHEMERA_GUARDED_BY(mu_) = std::int64_t{8} << 20;
  int rss_reads_ EPHEMERA_GUARDED_BY(mu_) = 0;
};

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_TESTS_DEBUGPOD_SNAPSHOT_FAKES_H_
