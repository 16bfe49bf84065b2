#include "debugpod/runtimes/jvm/jvm_runtime_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "debugpod/procfs/process_files.h"
#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/runtimes/jvm/attach_decision.h"
#include "debugpod/runtimes/jvm/perf_data.h"

namespace ephemera::runtimes::jvm {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxTmpEntries = 4096;  // entries of the JVM's /tmp looked at for hsperfdata_*
constexpr std::string_view kCapabilitiesCounter = "sun.rt.jvmCapabilities";
constexpr size_t kMaxPerfDataBytes = procfs::kDefaultMaxFileBytes;

// The value of "Key:" in /proc/<pid>/status text, or "".
std::string_view StatusField(std::string_view status, std::string_view key) {
  size_t pos = 0;
  while (pos < status.size()) {
    const size_t eol = std::min(status.find('\n', pos), status.size());
    std::string_view line = status.substr(pos, eol - pos);
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      return line;
    }
    pos = eol + 1;
  }
  return {};
}

// What the maps say the process runs: HotSpot (libjvm.so, no OpenJ9 library), OpenJ9, neither.
enum class Vm { kNone, kHotSpot, kOpenJ9 };

Vm VmFromMaps(std::string_view maps) {
  bool libjvm = false;
  bool j9 = false;
  size_t pos = 0;
  while (pos < maps.size()) {
    const size_t eol = std::min(maps.find('\n', pos), maps.size());
    const std::string_view line = maps.substr(pos, eol - pos);
    if (line.ends_with("/libjvm.so")) libjvm = true;
    if (line.find("/libj9vm") != std::string_view::npos) j9 = true;
    pos = eol + 1;
  }
  if (j9) return Vm::kOpenJ9;
  return libjvm ? Vm::kHotSpot : Vm::kNone;
}

Status ErrnoStatus(int err, const std::string& what) {
  return procfs::ErrnoToStatus(err, what).WithContext("jvm");
}

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int Get() const { return fd_; }

 private:
  int fd_;
};

// The trigger file this reader created, removed on scope exit.
class TriggerFile {
 public:
  TriggerFile() = default;
  TriggerFile(const TriggerFile&) = delete;
  TriggerFile& operator=(const TriggerFile&) = delete;
  ~TriggerFile() { Remove(); }
  // `name` relative to `dir_fd` (borrowed; AT_FDCWD for a path), which must stay open until
  // Remove.
  void Own(int dir_fd, std::string name) {
    dir_fd_ = dir_fd;
    name_ = std::move(name);
  }
  void Remove() {
    if (name_.empty()) return;
    // unlinkat with flags 0: the one form the sandbox allows for this.
    unlinkat(dir_fd_, name_.c_str(), 0);
    name_.clear();
  }

 private:
  int dir_fd_ = AT_FDCWD;
  std::string name_;
};

// Waits until `fd` is ready for `events` or `until` passes (DeadlineExceeded naming `what`).
Status WaitFor(int fd, short events, Clock::time_point until, const char* what) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return DeadlineExceededError(std::string("jvm: ") + what);
    pollfd p{fd, events, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (ready < 0 && errno != EINTR) return ErrnoStatus(errno, "poll on the attach socket");
    if (ready > 0) return OkStatus();
  }
}

// The JVM's /tmp, opened without following a symlink there: the target chooses where a symlink
// points, and the tool would resolve it in its own root, so the trigger file could land in the
// tool's folders and the socket could be one of the tool's side.
StatusOr<int> OpenJvmTmp(const std::string& pid_dir) {
  const std::string path = pid_dir + "/root/tmp";
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) return fd;
  const int err = errno;
  struct stat st {};
  if (err == ELOOP || (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))) {
    return FailedPreconditionError(
        "jvm: the JVM's /tmp is a symlink, not followed; no signal sent");
  }
  return ErrnoStatus(err, "opening the JVM's /tmp; no signal sent");
}

class Attach {
 public:
  // `tmp_fd` is the JVM's /tmp (OpenJvmTmp) and `pidfd` the JVM's pidfd, both borrowed.
  Attach(std::string pid_dir, int tmp_fd, int pidfd, int pid, int nspid, unsigned jvm_uid,
         Clock::time_point deadline)
      : pid_dir_(std::move(pid_dir)),
        tmp_fd_(tmp_fd),
        pidfd_(pidfd),
        pid_(pid),
        nspid_(nspid),
        jvm_uid_(jvm_uid),
        deadline_(deadline) {}

  std::string SocketName() const { return ".java_pid" + std::to_string(nspid_); }

  // The socket reached through the /tmp descriptor, so no component is looked up again.
  std::string SocketPath() const {
    return "/proc/self/fd/" + std::to_string(tmp_fd_) + "/" + SocketName();
  }

  // The socket is there and the JVM's user owns it (the JVM's own client makes the same check).
  bool SocketExists() const {
    struct stat st {};
    return fstatat(tmp_fd_, SocketName().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISSOCK(st.st_mode) && st.st_uid == jvm_uid_;
  }

  // Creates the trigger file where the JVM looks first (its working directory) or else in its
  // /tmp, as an empty file (mknodat: no descriptor, nothing written, never an existing file).
  // The JVM looks in /tmp only when the working directory has none, and accepts a file owned by
  // its UID or root; anything else would make SIGQUIT print a thread dump, so the file is
  // checked before the caller signals.
  Status CreateTrigger(TriggerFile& trigger) const {
    const std::string name = ".attach_pid" + std::to_string(nspid_);
    const std::string in_cwd = pid_dir_ + "/cwd/" + name;
    int dir_fd = AT_FDCWD;
    std::string path = in_cwd;
    if (mknodat(AT_FDCWD, in_cwd.c_str(), S_IFREG | 0600, 0) == 0) {
      trigger.Own(AT_FDCWD, in_cwd);
    } else if (const int cwd_error = errno; cwd_error != EEXIST) {
      // The JVM looks in /tmp only when its working directory has no file.
      struct stat st {};
      if (stat(in_cwd.c_str(), &st) == 0 || errno != ENOENT) {
        return FailedPreconditionError(
            "jvm: cannot tell whether the JVM's working directory holds a trigger file (" +
            std::string(strerrorname_np(cwd_error)) + "); no signal sent");
      }
      dir_fd = tmp_fd_;
      path = name;
      if (mknodat(tmp_fd_, name.c_str(), S_IFREG | 0600, 0) == 0) {
        trigger.Own(tmp_fd_, name);
      } else if (errno != EEXIST) {
        return ErrnoStatus(errno, "creating the trigger file in the JVM's working directory (" +
                                      std::string(strerrorname_np(cwd_error)) +
                                      ") and its /tmp; no signal sent");
      }
    }
    // EEXIST: another client's file, which the JVM takes if its owner is right; not ours to
    // remove.
    struct stat st {};
    if (fstatat(dir_fd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        (st.st_uid != jvm_uid_ && st.st_uid != 0)) {
      return FailedPreconditionError(
          "jvm: the trigger file is not owned by the JVM's user or root; no signal sent");
    }
    return OkStatus();
  }

  Status SignalAndWait(TriggerFile& trigger) {
    // Through the pidfd: the signal reaches the process checked, never one that took its pid.
    if (syscall(SYS_pidfd_send_signal, pidfd_, SIGQUIT, nullptr, 0) != 0) {
      return ErrnoStatus(errno, "pidfd_send_signal SIGQUIT");
    }
    const Clock::time_point until = std::min(deadline_, Clock::now() + kSocketWait);
    auto pause = std::chrono::milliseconds(2);
    while (!SocketExists()) {
      if (Clock::now() >= until) {
        trigger.Remove();
        return DeadlineExceededError(
            "jvm: SIGQUIT sent, but the attach socket did not appear in time");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    trigger.Remove();
    return OkStatus();
  }

  // Sends the threaddump request and returns the whole answer (at most max_bytes; longer is cut
  // and `cut` set), and the time from the request's first byte to the answer's end.
  StatusOr<std::string> Request(size_t max_bytes, bool& cut, std::chrono::microseconds& wait) {
    const std::string path = SocketPath();
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof(address.sun_path)) {
      return InvalidArgumentError("jvm: the attach socket's path is too long: " + path);
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    // Non-blocking: the target owns the listener, and a blocking connect to a full backlog (or
    // a send to a peer that never reads) would wait past every deadline.
    Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.Get() < 0) return ErrnoStatus(errno, "socket(AF_UNIX)");
    if (connect(fd.Get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      if (errno == EAGAIN) return UnavailableError("jvm: attach socket backlog full");
      if (errno != EINPROGRESS && errno != EINTR) return ErrnoStatus(errno, "connect " + path);
      EPHEMERA_RETURN_IF_ERROR(
          WaitFor(fd.Get(), POLLOUT, deadline_, "connecting to the attach socket timed out"));
      int error = 0;
      socklen_t error_size = sizeof error;
      if (getsockopt(fd.Get(), SOL_SOCKET, SO_ERROR, &error, &error_size) != 0) {
        return ErrnoStatus(errno, "SO_ERROR");
      }
      if (error != 0) return ErrnoStatus(error, "connect " + path);
    }
    ucred peer{};
    socklen_t peer_size = sizeof peer;
    if (getsockopt(fd.Get(), SOL_SOCKET, SO_PEERCRED, &peer, &peer_size) != 0) {
      return ErrnoStatus(errno, "SO_PEERCRED");
    }
    if (peer.pid != pid_) {
      return FailedPreconditionError("jvm: the attach socket is served by pid " +
                                     std::to_string(peer.pid) + ", not the JVM");
    }
    // Protocol 1: version, command and three arguments, each NUL-terminated.
    static constexpr char kRequest[] = "1\0threaddump\0-l\0\0";
    static constexpr size_t kRequestBytes = sizeof kRequest;  // with the last argument's NUL
    // From before the first byte: the JVM may finish the dump before send returns here.
    const Clock::time_point sent_at = Clock::now();
    const Clock::time_point until = std::min(deadline_, sent_at + kReplyWait);
    size_t sent = 0;
    while (sent < kRequestBytes) {
      const ssize_t n = send(fd.Get(), kRequest + sent, kRequestBytes - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return ErrnoStatus(errno, "send to the attach socket");
        EPHEMERA_RETURN_IF_ERROR(
            WaitFor(fd.Get(), POLLOUT, until, "the JVM did not take the attach request"));
        continue;
      }
      sent += static_cast<size_t>(n);
    }
    std::string reply;
    std::vector<char> buffer(64 << 10);
    for (;;) {
      EPHEMERA_RETURN_IF_ERROR(
          WaitFor(fd.Get(), POLLIN, until, "the JVM did not finish its thread dump"));
      const ssize_t n = recv(fd.Get(), buffer.data(), buffer.size(), 0);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return ErrnoStatus(errno, "recv from the attach socket");
      }
      if (n == 0) break;
      const size_t room = max_bytes - reply.size();
      reply.append(buffer.data(), std::min(room, static_cast<size_t>(n)));
      if (static_cast<size_t>(n) > room || reply.size() >= max_bytes) {
        cut = true;
        break;
      }
    }
    wait = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at);
    return reply;
  }

 private:
  std::string pid_dir_;
  int tmp_fd_;
  int pidfd_;
  int pid_;
  int nspid_;
  unsigned jvm_uid_;
  Clock::time_point deadline_;
};

// Every hsperfdata_<user> folder of the JVM's /tmp (`tmp_fd`, borrowed), looked for the JVM's
// perf-data file (named for its pid in its own namespace). Neither a folder nor the file is
// followed if it is a symlink, and the file must be a regular one (a FIFO would block the read).
// nullopt when none is found or readable.
std::optional<std::string> ReadCapabilities(int tmp_fd, int nspid) {
  const int listing_fd = openat(tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing_fd < 0) return std::nullopt;
  DIR* dir = fdopendir(listing_fd);
  if (dir == nullptr) {
    close(listing_fd);
    return std::nullopt;
  }
  std::vector<std::string> candidates;
  size_t seen = 0;
  while (const dirent* entry = readdir(dir)) {
    if (++seen > kMaxTmpEntries) break;
    const std::string_view name = entry->d_name;
    if (name.starts_with("hsperfdata_") && name.find('/') == std::string_view::npos) {
      candidates.emplace_back(name);
    }
  }
  closedir(dir);
  std::sort(candidates.begin(), candidates.end());
  for (const std::string& folder : candidates) {
    Fd folder_fd(openat(tmp_fd, folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (folder_fd.Get() < 0) continue;
    StatusOr<std::string> file =
        procfs::ReadSmallFileAt(folder_fd.Get(), std::to_string(nspid), kMaxPerfDataBytes);
    if (!file.ok()) continue;
    StatusOr<std::string> capabilities = FindPerfDataString(*file, kCapabilitiesCounter);
    if (capabilities.ok()) return *capabilities;
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> OptionVariables(const procfs::ProcFs& proc, int pid) {
  StatusOr<std::string> environ = proc.ReadFile(pid, "environ");
  if (!environ.ok()) return std::nullopt;
  std::vector<std::string> values(3);
  for (procfs::EnvVar& var : procfs::ParseEnviron(*environ)) {
    if (var.name == "JAVA_TOOL_OPTIONS") {
      values[0] = std::move(var.value);
    } else if (var.name == "JDK_JAVA_OPTIONS") {
      values[1] = std::move(var.value);
    } else if (var.name == "_JAVA_OPTIONS") {
      values[2] = std::move(var.value);
    }
  }
  return values;
}

}  // namespace

JvmRuntimeReader::JvmRuntimeReader(std::string proc_root, const procfs::ProcFs& proc,
                                   ThreadDumpLimits dump_limits)
    : proc_root_(std::move(proc_root)), proc_(&proc), dump_limits_(dump_limits) {}

StatusOr<std::optional<RuntimeStacks>> JvmRuntimeReader::Read(int pid,
                                                              const RuntimeLimits& limits) {
  StatusOr<std::string> maps = proc_->ReadFile(pid, "maps");
  if (!maps.ok()) {
    // Without maps the reader cannot tell; a process named java is worth saying so about.
    StatusOr<std::string> comm = proc_->ReadFile(pid, "comm");
    if (comm.ok() && comm->starts_with("java")) return maps.status().WithContext("jvm: maps");
    return std::optional<RuntimeStacks>();
  }
  switch (VmFromMaps(*maps)) {
    case Vm::kNone:
      return std::optional<RuntimeStacks>();
    case Vm::kOpenJ9:
      return FailedPreconditionError("jvm: OpenJ9 is not supported (HotSpot only)");
    case Vm::kHotSpot:
      break;
  }

  // From here the pidfd names the process whose maps are read next: a pid reused since the
  // check above is caught there, and one reused later cannot be signalled.
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.Get() < 0) return ErrnoStatus(errno, "pidfd_open");
  maps = proc_->ReadFile(pid, "maps");
  if (!maps.ok()) return maps.status().WithContext("jvm: maps");
  if (VmFromMaps(*maps) != Vm::kHotSpot) {
    return FailedPreconditionError("jvm: the process changed while it was read; no signal sent");
  }

  StatusOr<std::string> status_text = proc_->ReadFile(pid, "status");
  if (!status_text.ok()) return status_text.status().WithContext("jvm: status");
  StatusOr<procfs::ProcStatus> status = procfs::ParseProcStatus(*status_text);
  if (!status.ok()) return status.status().WithContext("jvm");
  const int nspid = status->nspid.empty() ? pid : status->nspid.back();
  const std::string pid_dir = proc_root_ + "/" + std::to_string(pid);
  StatusOr<int> tmp_fd = OpenJvmTmp(pid_dir);
  if (!tmp_fd.ok()) return tmp_fd.status();
  const Fd tmp(*tmp_fd);

  AttachFacts facts;
  facts.jvm_uid = status->uids[1];
  facts.jvm_gid = status->gids[1];
  facts.tool_uid = geteuid();
  facts.tool_gid = getegid();
  facts.sigquit_caught = SigQuitCaught(StatusField(*status_text, "SigCgt"));
  Attach attach(pid_dir, tmp.Get(), pidfd.Get(), pid, nspid, status->uids[1], limits.deadline);
  facts.socket_exists = attach.SocketExists();
  if (!facts.socket_exists) {
    if (StatusOr<std::string> cmdline = proc_->ReadFile(pid, "cmdline"); cmdline.ok()) {
      facts.command_line = procfs::ParseCmdline(*cmdline);
    }
    facts.option_variables = OptionVariables(*proc_, pid);
    facts.capabilities = ReadCapabilities(tmp.Get(), nspid);
    facts.may_signal = kill(pid, 0) == 0;
  }
  const AttachPlan plan = DecideAttach(facts);
  if (plan.action == AttachPlan::Action::kRefuse) return FailedPreconditionError(plan.reason);
  if (plan.action == AttachPlan::Action::kSignalAndConnect) {
    TriggerFile trigger;
    if (Status created = attach.CreateTrigger(trigger); !created.ok()) return created;
    if (Status up = attach.SignalAndWait(trigger); !up.ok()) return up;
  }

  bool cut = false;
  std::chrono::microseconds wait{0};
  StatusOr<std::string> reply = attach.Request(dump_limits_.max_dump_bytes + 64, cut, wait);
  if (!reply.ok()) return reply.status();
  StatusOr<std::string_view> body = SplitAttachReply(*reply);
  if (!body.ok()) return body.status();
  StatusOr<RuntimeStacks> stacks = ParseThreadDump(*body, limits, dump_limits_);
  if (!stacks.ok()) return stacks.status();
  stacks->method = "attach";
  stacks->freeze = wait;
  if (cut) {
    stacks->problems.push_back("jvm: the JVM's answer was cut at " +
                               std::to_string(dump_limits_.max_dump_bytes) + " bytes");
  }
  return std::optional<RuntimeStacks>(std::move(*stacks));
}

}  // namespace ephemera::runtimes::jvm
