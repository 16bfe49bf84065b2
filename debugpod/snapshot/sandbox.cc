#include "debugpod/snapshot/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace ephemera::snapshot {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "the snapshot tool's seccomp filter knows x86_64 and aarch64"
#endif
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "argument halves assume little endian");

std::string ErrnoText(int e) { return std::strerror(e); }

// Calls the tool never makes. Each is answered EPERM, so a bug that reaches one fails visibly.
constexpr int kDeniedCalls[] = {
    // file handles: with CAP_DAC_READ_SEARCH, open_by_handle_at reads any file of a filesystem
    // the container has an fd on (the "shocker" host-file read)
    __NR_name_to_handle_at,
    __NR_open_by_handle_at,
    // running anything else
    __NR_execve,
    __NR_execveat,
    // the network (the tool reads /proc/<pid>/net/*, it has no socket)
    __NR_socket,
    __NR_socketpair,
    __NR_connect,
    __NR_bind,
    __NR_listen,
    __NR_accept,
    __NR_accept4,
    // mounts, roots and namespaces
    __NR_mount,
    __NR_umount2,
    __NR_pivot_root,
    __NR_chroot,
    __NR_unshare,
    __NR_setns,
    __NR_fsopen,
    __NR_fsconfig,
    __NR_fsmount,
    __NR_fspick,
    __NR_move_mount,
    __NR_open_tree,
    __NR_mount_setattr,
    // the kernel's larger surfaces
    __NR_init_module,
    __NR_finit_module,
    __NR_delete_module,
    __NR_kexec_load,
    __NR_kexec_file_load,
    __NR_bpf,
    __NR_perf_event_open,
    __NR_userfaultfd,
    __NR_keyctl,
    __NR_add_key,
    __NR_request_key,
    __NR_io_uring_setup,
    __NR_io_uring_enter,
    __NR_io_uring_register,
    // other processes: their memory and their file descriptors
    __NR_process_vm_writev,
    __NR_pidfd_getfd,
    __NR_process_madvise,
    // changing files (the target's root is reachable under /proc/<pid>/root)
    __NR_unlinkat,
    __NR_renameat,
    __NR_renameat2,
    __NR_mkdirat,
    __NR_linkat,
    __NR_symlinkat,
    __NR_mknodat,
    __NR_fchmod,
    __NR_fchmodat,
    __NR_fchown,
    __NR_fchownat,
    __NR_truncate,
    __NR_setxattr,
    __NR_lsetxattr,
    __NR_fsetxattr,
    __NR_removexattr,
    __NR_lremovexattr,
    __NR_fremovexattr,
    __NR_utimensat,
#ifdef __NR_fchmodat2
    __NR_fchmodat2,
#endif
#if defined(__x86_64__)
    __NR_creat,
    __NR_unlink,
    __NR_rename,
    __NR_mkdir,
    __NR_rmdir,
    __NR_link,
    __NR_symlink,
    __NR_mknod,
    __NR_chmod,
    __NR_chown,
    __NR_lchown,
    __NR_utime,
    __NR_utimes,
    __NR_futimesat,
#endif
};

// Calls that kDeniedCalls refuses outright and SandboxOptions::allow_jvm_attach lets through in
// one narrow form each (BuildFilter).
constexpr int kJvmAttachCalls[] = {__NR_socket, __NR_connect, __NR_mknodat, __NR_unlinkat};

// Calls that send a signal to a process or thread named by the caller. kill is limited to the
// signals the tool sends; tgkill to the tool's own threads (raise, abort, pthread_kill); the rest
// the tool never makes.
constexpr int kDeniedSignalCalls[] = {__NR_tkill, __NR_rt_sigqueueinfo, __NR_rt_tgsigqueueinfo,
                                      __NR_pidfd_send_signal};

constexpr uint32_t kWriteOpenFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC;
constexpr uint32_t kNamespaceCloneFlags = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
                                          CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
                                          CLONE_NEWCGROUP;
constexpr uint32_t kAllowedPtraceRequests[] = {PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_GETREGSET,
                                               PTRACE_DETACH};

constexpr uint32_t kRetAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kRetKill = SECCOMP_RET_KILL_PROCESS;
constexpr uint32_t kRetEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr uint32_t kRetEnosys = SECCOMP_RET_ERRNO | ENOSYS;

constexpr uint32_t ArgLow(int i) {
  return static_cast<uint32_t>(offsetof(seccomp_data, args) + sizeof(uint64_t) * i);
}
constexpr uint32_t ArgHigh(int i) { return ArgLow(i) + sizeof(uint32_t); }

// A seccomp-BPF program built from blocks that each test the syscall number (in the accumulator)
// and, when it matches, end in a return: a block that does not match leaves the accumulator as it
// was, and no jump leaves its block, so every offset is small and local.
class FilterProgram {
 public:
  // if (nr == call) return action;
  void Return(int call, uint32_t action) {
    Jump(BPF_JEQ | BPF_K, static_cast<uint32_t>(call), 0, 1);
    Ret(action);
  }
  // if (nr == call) return (arg_low & mask) ? EPERM : ALLOW;  (the high half holds no flags)
  void DenyFlags(int call, int arg, uint32_t mask) {
    Jump(BPF_JEQ | BPF_K, static_cast<uint32_t>(call), 0, 4);
    Load(ArgLow(arg));
    Jump(BPF_JSET | BPF_K, mask, 0, 1);
    Ret(kRetEperm);
    Ret(kRetAllow);
  }
  // if (nr == call) return (arg is one of `allowed`) ? ALLOW : EPERM;
  void AllowValues(int call, int arg, const std::vector<uint32_t>& allowed) {
    const auto n = static_cast<uint8_t>(allowed.size());
    Jump(BPF_JEQ | BPF_K, static_cast<uint32_t>(call), 0, static_cast<uint8_t>(n + 6));
    Load(ArgHigh(arg));
    Jump(BPF_JEQ | BPF_K, 0, 1, 0);
    Ret(kRetEperm);
    Load(ArgLow(arg));
    for (uint8_t i = 0; i < n; ++i) {
      Jump(BPF_JEQ | BPF_K, allowed[i], static_cast<uint8_t>(n - i), 0);
    }
    Ret(kRetEperm);
    Ret(kRetAllow);
  }
  // if (nr == call) return (arg_a == value_a && arg_b == value_b) ? ALLOW : EPERM;
  void AllowPair(int call, int arg_a, uint32_t value_a, int arg_b, uint32_t value_b) {
    Jump(BPF_JEQ | BPF_K, static_cast<uint32_t>(call), 0, 10);
    Load(ArgHigh(arg_a));
    Jump(BPF_JEQ | BPF_K, 0, 0, 7);
    Load(ArgLow(arg_a));
    Jump(BPF_JEQ | BPF_K, value_a, 0, 5);
    Load(ArgHigh(arg_b));
    Jump(BPF_JEQ | BPF_K, 0, 0, 3);
    Load(ArgLow(arg_b));
    Jump(BPF_JEQ | BPF_K, value_b, 0, 1);
    Ret(kRetAllow);
    Ret(kRetEperm);
  }
  // Starts a block for `call` whose length is set by EndBlock: if (nr != call) skip the block.
  size_t BeginBlock(int call) {
    Jump(BPF_JEQ | BPF_K, static_cast<uint32_t>(call), 0, 0);
    return code_.size() - 1;
  }
  void EndBlock(size_t begin) { code_[begin].jf = static_cast<uint8_t>(code_.size() - begin - 1); }
  // Inside a block: return EPERM unless arg, as a 32-bit int, is in 1..INT_MAX; else go on.
  void RequirePositiveInt(int arg) {
    Load(ArgHigh(arg));
    Jump(BPF_JEQ | BPF_K, 0, 1, 0);
    Ret(kRetEperm);
    Load(ArgLow(arg));
    Jump(BPF_JEQ | BPF_K, 0, 0, 1);
    Ret(kRetEperm);
    Jump(BPF_JSET | BPF_K, 0x80000000u, 0, 1);
    Ret(kRetEperm);
  }
  // Inside a block: return EPERM unless arg == value; else go on.
  void RequireValue(int arg, uint32_t value) {
    Load(ArgHigh(arg));
    Jump(BPF_JEQ | BPF_K, 0, 1, 0);
    Ret(kRetEperm);
    Load(ArgLow(arg));
    Jump(BPF_JEQ | BPF_K, value, 1, 0);
    Ret(kRetEperm);
  }
  // Ends a block: return (arg is one of `allowed`) ? ALLOW : EPERM.
  void ReturnOneOf(int arg, const std::vector<uint32_t>& allowed) {
    const auto n = static_cast<uint8_t>(allowed.size());
    Load(ArgHigh(arg));
    Jump(BPF_JEQ | BPF_K, 0, 1, 0);
    Ret(kRetEperm);
    Load(ArgLow(arg));
    for (uint8_t i = 0; i < n; ++i) {
      Jump(BPF_JEQ | BPF_K, allowed[i], static_cast<uint8_t>(n - i), 0);
    }
    Ret(kRetEperm);
    Ret(kRetAllow);
  }
  void Load(uint32_t offset) { code_.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)); }
  void Jump(uint16_t op, uint32_t k, uint8_t jt, uint8_t jf) {
    code_.push_back(BPF_JUMP(static_cast<uint16_t>(BPF_JMP | op), k, jt, jf));
  }
  void Ret(uint32_t action) { code_.push_back(BPF_STMT(BPF_RET | BPF_K, action)); }
  std::vector<sock_filter>& Code() { return code_; }

 private:
  std::vector<sock_filter> code_;
};

bool IsJvmAttachCall(int call) {
  return std::find(std::begin(kJvmAttachCalls), std::end(kJvmAttachCalls), call) !=
         std::end(kJvmAttachCalls);
}

std::vector<sock_filter> BuildFilter(Profile profile, const SandboxOptions& options) {
  FilterProgram p;
  p.Load(offsetof(seccomp_data, arch));
  p.Jump(BPF_JEQ | BPF_K, kAuditArch, 1, 0);
  p.Ret(kRetKill);
  p.Load(offsetof(seccomp_data, nr));
#if defined(__x86_64__)
  p.Jump(BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1);
  p.Ret(kRetKill);
#endif
  for (int call : kDeniedCalls) {
    if (options.allow_jvm_attach && IsJvmAttachCall(call)) continue;
    p.Return(call, kRetEperm);
  }
  if (options.allow_jvm_attach) {
    // The attach of debugpod/runtimes/jvm and nothing more that a filter can tell apart: a
    // Unix stream socket (no other family can be created, so connect reaches only a Unix
    // socket); an empty regular file of mode 0600 (mknodat: no descriptor to write through, an
    // existing file is never opened); unlinking a file but not a folder. The paths are out of
    // the filter's sight (docs/security.md).
    p.AllowPair(__NR_socket, 0, AF_UNIX, 1, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
    p.Return(__NR_connect, kRetAllow);
    p.AllowValues(__NR_mknodat, 2, {S_IFREG | 0600});
    p.AllowValues(__NR_unlinkat, 2, {0});
  }
  p.Return(__NR_clone3, kRetEnosys);
  p.Return(__NR_openat2, kRetEnosys);
  if (!kSanitizerBuild) {
    if (profile == Profile::kPtrace) {
      p.AllowValues(__NR_ptrace, 0,
                    std::vector<uint32_t>(std::begin(kAllowedPtraceRequests),
                                          std::end(kAllowedPtraceRequests)));
    } else {
      // The language runtimes' memory reads go through /proc/<pid>/mem (pread), which the
      // container runtime's own seccomp profile allows without CAP_SYS_PTRACE.
      p.Return(__NR_ptrace, kRetEperm);
      p.Return(__NR_process_vm_readv, kRetEperm);
    }
    // Signal 0 probes whether a process may be signalled; SIGCHLD wakes the stack capture's own
    // wait. Only to one process: a pid of 0 or below names a process group or every process the
    // tool may signal. (A JVM's SIGQUIT goes through its pidfd, below.)
    const std::vector<uint32_t> signals = {0, SIGCHLD};
    const size_t kill_block = p.BeginBlock(__NR_kill);
    p.RequirePositiveInt(0);
    p.ReturnOneOf(1, signals);
    p.EndBlock(kill_block);
    p.AllowValues(__NR_tgkill, 0, {static_cast<uint32_t>(getpid())});
    if (options.allow_jvm_attach) {
      // The reader signals the JVM through a pidfd (no pid reuse): SIGQUIT, no siginfo, no flags.
      const size_t block = p.BeginBlock(__NR_pidfd_send_signal);
      p.RequireValue(1, SIGQUIT);
      p.RequireValue(2, 0);
      p.RequireValue(3, 0);
      p.Ret(kRetAllow);
      p.EndBlock(block);
    }
    for (int call : kDeniedSignalCalls) p.Return(call, kRetEperm);
  }
  p.DenyFlags(__NR_openat, 2, kWriteOpenFlags);
#if defined(__x86_64__)
  p.DenyFlags(__NR_open, 1, kWriteOpenFlags);
#endif
  p.DenyFlags(__NR_clone, 0, kNamespaceCloneFlags);
  p.Ret(kRetAllow);
  return std::move(p.Code());
}

// Counts /proc/self/task entries: capabilities are per thread, so they must be dropped before a
// second thread exists.
int ThreadCount() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

Status DropCapabilities(Profile profile) {
  uint64_t keep = 0;
  if (profile == Profile::kPtrace) {
    keep = (uint64_t{1} << CAP_SYS_PTRACE) | (uint64_t{1} << CAP_DAC_READ_SEARCH);
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) {
    return InternalError("capget: " + ErrnoText(errno));
  }
  const bool may_drop_bounding = (data[0].effective & (1u << CAP_SETPCAP)) != 0;
  if (may_drop_bounding) {
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
      if ((keep >> cap) & 1) continue;
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
        return InternalError("dropping capability " + std::to_string(cap) +
                             " from the bounding set: " + ErrnoText(errno));
      }
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return InternalError("clearing the ambient capabilities: " + ErrnoText(errno));
  }
  for (int i = 0; i < 2; ++i) {
    const auto keep_half = static_cast<uint32_t>(keep >> (32 * i));
    data[i].permitted &= keep_half;
    data[i].effective &= data[i].permitted;
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &header, data) != 0) {
    return InternalError("capset: " + ErrnoText(errno));
  }
  return OkStatus();
}

}  // namespace

Status MakeNonDumpable() {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return InternalError("prctl(PR_SET_DUMPABLE, 0): " + ErrnoText(errno));
  }
  return OkStatus();
}

Status LimitAddressSpace(uint64_t bytes) {
  if (kSanitizerBuild) return OkStatus();
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) != 0) return InternalError("getrlimit: " + ErrnoText(errno));
  const rlim_t wanted = static_cast<rlim_t>(bytes);
  limit.rlim_max = std::min(limit.rlim_max, wanted);
  limit.rlim_cur = std::min(limit.rlim_cur, limit.rlim_max);
  if (setrlimit(RLIMIT_AS, &limit) != 0) {
    return InternalError("setrlimit(RLIMIT_AS): " + ErrnoText(errno));
  }
  return OkStatus();
}

namespace {

Status LowerLimit(int resource, const char* name, rlim_t soft, rlim_t hard) {
  rlimit limit{};
  if (getrlimit(resource, &limit) != 0) return InternalError("getrlimit: " + ErrnoText(errno));
  limit.rlim_max = std::min(limit.rlim_max, hard);
  limit.rlim_cur = std::min({limit.rlim_cur, soft, limit.rlim_max});
  if (setrlimit(resource, &limit) != 0) {
    return InternalError(std::string("setrlimit(") + name + "): " + ErrnoText(errno));
  }
  return OkStatus();
}

}  // namespace

Status LimitCpuTime(std::chrono::seconds soft, std::chrono::seconds hard) {
  return LowerLimit(RLIMIT_CPU, "RLIMIT_CPU", static_cast<rlim_t>(soft.count()),
                    static_cast<rlim_t>(hard.count()));
}

Status LimitDataSize(uint64_t bytes) {
  if (kSanitizerBuild) return OkStatus();
  return LowerLimit(RLIMIT_DATA, "RLIMIT_DATA", static_cast<rlim_t>(bytes),
                    static_cast<rlim_t>(bytes));
}

Status InstallSandbox(Profile profile, const SandboxOptions& options) {
  const int threads = ThreadCount();
  if (threads != 1) {
    return FailedPreconditionError(
        "the sandbox must be installed while the process has one thread"
        " (found " +
        std::to_string(threads) + ")");
  }
  if (Status dropped = DropCapabilities(profile); !dropped.ok()) return dropped;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return InternalError("prctl(PR_SET_NO_NEW_PRIVS): " + ErrnoText(errno));
  }
  std::vector<sock_filter> code = BuildFilter(profile, options);
  sock_fprog program{static_cast<unsigned short>(code.size()), code.data()};
  const long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program);
  if (r != 0) {
    return InternalError(r > 0 ? "seccomp: thread " + std::to_string(r) + " could not be synced"
                               : "seccomp: " + ErrnoText(errno));
  }
  return OkStatus();
}

}  // namespace ephemera::snapshot
