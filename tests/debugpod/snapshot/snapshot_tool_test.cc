// Component tests: the built ephemera-snapshot against a real multi-threaded ephemera-target (run
// under a shell wrapper that carries a secret in its command line), the real age CLI, and real
// process exits. Run as root on the build host.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/snapshot_document.h"
#include "debugpod/procfs/net.h"
#include "debugpod/procfs/process_files.h"
#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/snapshot/sandbox.h"
#include "debugpod/snapshot/watchdog.h"

namespace ephemera::snapshot {
namespace {

using ::testing::AnyOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kEnvSecret[] = "hunter2-very-secret";
constexpr char kCmdlineSecret[] = "tok-7c1e9a3b5d2f4e6a0b8c";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "snapshot-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
    std::filesystem::permissions(path_, std::filesystem::perms::all);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::chrono::milliseconds wall{0};
};

constexpr uint64_t CapBit(int cap) { return uint64_t{1} << cap; }
// What a pod's ptrace-profile container gets: root with these two (controller/session/
// ephemeral_container.cc).
constexpr uint64_t kPodPtraceCapabilities = CapBit(CAP_SYS_PTRACE) | CapBit(CAP_DAC_READ_SEARCH);

// Drops every capability not in `keep` from this process's bounding set, so that a program it
// executes as root gets only those (as in a container whose runtime added only those).
bool LimitBoundingSet(uint64_t keep) {
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    if ((keep & CapBit(cap)) == 0 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return false;
  }
  return true;
}

// Copies `program` into `dir`, executable by anyone: another uid may not be able to reach the
// build tree (a checkout under a 0700 folder).
std::string CopyForAnyone(const std::string& program, const std::string& dir) {
  std::string copy = dir + "/" + std::filesystem::path(program).filename().string();
  std::filesystem::copy_file(program, copy, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(
      copy, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                std::filesystem::perms::others_exec);
  std::filesystem::permissions(
      dir, std::filesystem::perms::others_exec | std::filesystem::perms::group_exec,
      std::filesystem::perm_options::add);
  return copy;
}

// Becomes `uid` (and the group of the same number) with no supplementary groups; false if not.
bool BecomeUser(uid_t uid) {
  return setgroups(0, nullptr) == 0 && setgid(uid) == 0 && setuid(uid) == 0;
}

// Whether this test runs in the node's PID namespace (a development machine, not a pod). The tool
// refuses to capture there without --host-namespaces allow (H2), so the tests that are about
// something else pass it then, as the controller does for a host session.
bool InInitialPidNamespace() {
  std::array<char, 64> link{};
  ssize_t n = readlink("/proc/self/ns/pid", link.data(), link.size() - 1);
  return n > 0 && std::string(link.data(), static_cast<size_t>(n)) == "pid:[4026531836]";
}

std::vector<std::string> WithHostSessionIfNeeded(std::vector<std::string> args) {
  if (!args.empty() && args[0] == EPHEMERA_SNAPSHOT_PATH && InInitialPidNamespace() &&
      std::find(args.begin(), args.end(), "--host-namespaces") == args.end()) {
    args.push_back("--host-namespaces");
    args.push_back("allow");
  }
  return args;
}

// Runs argv[0] with stdout and stderr captured in files, optionally as another uid or as root
// with only the `capabilities` given, and gives up (SIGKILL) after 60s.
RunResult RunProgram(const std::vector<std::string>& argv,
                     std::optional<uid_t> as_uid = std::nullopt,
                     std::optional<uint64_t> capabilities = std::nullopt) {
  TempDir dir;
  std::string out_path = dir.File("out");
  std::string err_path = dir.File("err");
  // Another uid may not be able to reach the build tree (a checkout under a 0700 folder), so it
  // runs a copy from a folder anyone can enter.
  std::vector<std::string> args = WithHostSessionIfNeeded(argv);
  if (as_uid) args[0] = CopyForAnyone(args[0], dir.File(""));
  std::vector<char*> cargv;
  cargv.reserve(args.size() + 1);
  for (const std::string& a : args) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  RunResult result;
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    if (as_uid && !BecomeUser(*as_uid)) _exit(126);
    if (capabilities && !LimitBoundingSet(*capabilities)) _exit(125);
    execv(cargv[0], cargv.data());
    dprintf(STDERR_FILENO, "execv %s: %s\n", cargv[0], strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() - start > std::chrono::seconds(60)) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  result.wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadAll(out_path);
  result.err = ReadAll(err_path);
  return result;
}

// A port the kernel just handed out (0 if none could be had, which fails the test that uses it).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (fd >= 0) close(fd);
  return ok ? ntohs(addr.sin_port) : 0;
}

// `sh -c '"$1" --threads N --port P; :' ephemera-wrapper <target> --token=<secret>` with a secret
// in the environment: the shell (main process, secret in its cmdline) and ephemera-target (its
// child). Killed, as a process group, on destruction. With `as_uid`, both run as that user and
// the target's binary sits in a folder only that user may enter (0700), as in an image whose
// application directory belongs to its user.
class TargetTree {
 public:
  explicit TargetTree(int threads, std::optional<uid_t> as_uid = std::nullopt) : port_(FreePort()) {
    std::string target = EPHEMERA_TARGET_PATH;
    if (as_uid) {
      const std::string private_dir = dir_.File("app");
      std::filesystem::create_directory(private_dir);
      target = private_dir + "/ephemera-target";
      std::filesystem::copy_file(EPHEMERA_TARGET_PATH, target);
      if (chown(target.c_str(), *as_uid, *as_uid) != 0 ||
          chown(private_dir.c_str(), *as_uid, *as_uid) != 0 ||
          chmod(private_dir.c_str(), 0700) != 0) {
        return;
      }
    }
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int devnull = open("/dev/null", O_RDWR);
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
      if (as_uid && !BecomeUser(*as_uid)) _exit(126);
      std::string script = "\"$1\" --threads " + std::to_string(threads) + " --port " +
                           std::to_string(port_) + "; :";
      std::string token = std::string("--token=") + kCmdlineSecret;
      std::string password = std::string("DB_PASSWORD=") + kEnvSecret;
      const char* argv[] = {"/bin/sh",      "-c",          script.c_str(), "ephemera-wrapper",
                            target.c_str(), token.c_str(), nullptr};
      const char* envp[] = {"PATH=/usr/bin:/bin", "HOME=/nonexistent", "LOG_LEVEL=info",
                            password.c_str(), nullptr};
      execve("/bin/sh", const_cast<char**>(argv), const_cast<char**>(envp));
      _exit(127);
    }
    setpgid(pid_, pid_);
    ready_ = WaitUntilServing(threads + 3);
  }
  ~TargetTree() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  int ShellPid() const { return pid_; }
  int TargetPid() const { return target_pid_; }
  int Port() const { return port_; }
  bool Ready() const { return ready_; }

 private:
  bool WaitUntilServing(size_t threads) {
    procfs::RealProcFs proc;
    for (int attempt = 0; attempt < 500; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (target_pid_ == 0) {
        StatusOr<std::vector<int>> pids = proc.ListPids();
        if (!pids.ok()) continue;
        for (int p : *pids) {
          StatusOr<std::string> stat = proc.ReadFile(p, "stat");
          if (!stat.ok()) continue;
          StatusOr<procfs::ProcStat> parsed = procfs::ParseProcStat(*stat);
          if (parsed.ok() && parsed->ppid == pid_) target_pid_ = p;
        }
        if (target_pid_ == 0) continue;
      }
      StatusOr<std::vector<int>> tasks = proc.ListTasks(target_pid_);
      StatusOr<std::string> tcp = proc.ReadNetFile(target_pid_, "tcp");
      if (!tasks.ok() || tasks->size() < threads || !tcp.ok()) continue;
      StatusOr<std::vector<procfs::NetSocket>> sockets = procfs::ParseNetSockets(*tcp, "tcp");
      if (!sockets.ok()) continue;
      for (const procfs::NetSocket& s : *sockets) {
        if (s.state == "LISTEN" && s.local == "127.0.0.1:" + std::to_string(port_)) return true;
      }
    }
    return false;
  }

  TempDir dir_;
  int port_;
  pid_t pid_ = -1;
  int target_pid_ = 0;
  bool ready_ = false;
};

const Json* FindProcess(const Json& doc, int pid) {
  for (const Json& p : doc["processes"]) {
    if (p["pid"] == pid) return &p;
  }
  return nullptr;
}

std::vector<std::string> AllSymbols(const Json& process) {
  std::vector<std::string> symbols;
  for (const Json& t : process["threads"]) {
    if (!t.contains("stack")) continue;
    for (const Json& f : t["stack"]["frames"]) symbols.push_back(f.value("symbol", ""));
  }
  return symbols;
}

bool AnySymbolContains(const std::vector<std::string>& symbols, std::string_view part) {
  for (const std::string& s : symbols) {
    if (s.find(part) != std::string::npos) return true;
  }
  return false;
}

bool HasDegradedReason(const Json& doc, std::string_view part) {
  for (const Json& d : doc["degraded"]) {
    if (d["reason"].get<std::string>().find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(SnapshotToolTest, JsonSnapshotOfAMultiThreadedTarget) {
  TargetTree tree(4);
  ASSERT_TRUE(tree.Ready()) << "ephemera-target did not start serving";
  RunResult run = RunProgram(
      {EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.ShellPid()), "--format", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  Json doc = Json::parse(run.out);

  EXPECT_EQ(doc["apiVersion"], "ephemera.dev/snapshot/v1");
  EXPECT_EQ(doc["targets"]["mainPid"], tree.ShellPid());
  EXPECT_EQ(doc["targets"]["pids"], Json::array({tree.ShellPid(), tree.TargetPid()}));
  EXPECT_EQ(doc["sections"].size(), 9u);
  EXPECT_TRUE(doc["degraded"].empty()) << doc["degraded"].dump(2);

  const Json* target = FindProcess(doc, tree.TargetPid());
  ASSERT_NE(target, nullptr);
  std::vector<std::string> names;
  for (const Json& t : (*target)["threads"]) names.push_back(t.value("name", ""));
  EXPECT_THAT(names, Contains("acceptor"));
  EXPECT_THAT(names, Contains("pipe-reader"));
  EXPECT_THAT(names, Contains("checkout-0"));
  EXPECT_THAT(names, Contains("orders-1"));
  for (const Json& t : (*target)["threads"]) {
    EXPECT_TRUE(t.contains("stack")) << "thread " << t["tid"] << " has no stack";
    EXPECT_TRUE(t.contains("wchan"));
  }
  std::vector<std::string> symbols = AllSymbols(*target);
  EXPECT_TRUE(AnySymbolContains(symbols, "SleepInCheckoutLoop"));
  EXPECT_TRUE(AnySymbolContains(symbols, "WaitForOrders"));
  EXPECT_TRUE(AnySymbolContains(symbols, "AcceptConnections"));

  bool listening = false;
  for (const Json& s : (*target)["sockets"]) {
    if (s["protocol"] == "tcp" && s["local"] == "127.0.0.1:" + std::to_string(tree.Port()) &&
        s["state"] == "LISTEN") {
      listening = true;
    }
  }
  EXPECT_TRUE(listening) << (*target)["sockets"].dump(2);
  for (const char* key : {"cmdline", "limits", "cgroup", "maps", "env", "fds", "io"}) {
    EXPECT_TRUE(target->contains(key)) << key;
  }

  // Secrets appear nowhere, and the report counts what was redacted.
  EXPECT_THAT(run.out, Not(HasSubstr(kEnvSecret)));
  EXPECT_THAT(run.out, Not(HasSubstr(kCmdlineSecret)));
  EXPECT_THAT(run.err, Not(HasSubstr(kEnvSecret)));
  const Json* shell = FindProcess(doc, tree.ShellPid());
  ASSERT_NE(shell, nullptr);
  EXPECT_THAT((*shell)["cmdline"].get<std::string>(), HasSubstr("--token="));
  EXPECT_GE(doc["redaction"]["envRedacted"].get<int>(), 2);  // DB_PASSWORD in both processes
  int matched = 0;
  for (const auto& [rule, count] : doc["redaction"]["patternsMatched"].items()) {
    matched += count.get<int>();
  }
  EXPECT_GE(matched, 1);
  EXPECT_TRUE(doc["redaction"]["droppedFields"].empty());

  const Json& overhead = doc["overhead"];
  EXPECT_GT(overhead["targetFreezeMicros"].get<int64_t>(), 0);
  EXPECT_GT(overhead["toolMaxRssKiB"].get<int64_t>(), 0);
  std::cout << "figures: wall " << overhead["wallMillis"] << " ms (process " << run.wall.count()
            << " ms), tool CPU " << overhead["toolCpuMillis"] << " ms, max RSS "
            << overhead["toolMaxRssKiB"] << " KiB, target freeze total "
            << overhead["targetFreezeMicros"] << " us, max per thread "
            << overhead["targetMaxThreadFreezeMicros"] << " us, output " << run.out.size()
            << " bytes\n";
}

TEST(SnapshotToolTest, AgeOutputDecryptsWithTheAgeCli) {
  TargetTree tree(4);
  ASSERT_TRUE(tree.Ready());
  TempDir dir;
  RunResult keygen = RunProgram({"/usr/bin/age-keygen", "-o", dir.File("key.txt")});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  std::string key_file = ReadAll(dir.File("key.txt"));
  size_t at = key_file.find("# public key: ");
  ASSERT_NE(at, std::string::npos);
  std::string recipient = key_file.substr(at + 14, key_file.find('\n', at) - at - 14);

  RunResult run = RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.TargetPid()),
                              "--recipient", recipient});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, testing::StartsWith("-----BEGIN AGE ENCRYPTED FILE-----\n"));
  EXPECT_THAT(run.out, HasSubstr("-----END AGE ENCRYPTED FILE-----"));
  EXPECT_THAT(run.out, Not(HasSubstr("apiVersion")));

  std::ofstream(dir.File("snapshot.age")) << run.out;
  RunResult decrypt = RunProgram({"/bin/sh", "-c", "/usr/bin/age -d -i \"$1\" \"$2\" | gunzip",
                                  "sh", dir.File("key.txt"), dir.File("snapshot.age")});
  ASSERT_EQ(decrypt.exit_code, 0) << decrypt.err;
  Json doc = Json::parse(decrypt.out);
  EXPECT_EQ(doc["apiVersion"], "ephemera.dev/snapshot/v1");
  EXPECT_EQ(doc["targets"]["mainPid"], tree.TargetPid());
  const Json* target = FindProcess(doc, tree.TargetPid());
  ASSERT_NE(target, nullptr);
  EXPECT_TRUE(AnySymbolContains(AllSymbols(*target), "SleepInCheckoutLoop"));
  EXPECT_THAT(decrypt.out, Not(HasSubstr(kEnvSecret)));
  EXPECT_TRUE(doc["degraded"].empty()) << doc["degraded"].dump(2);
}

TEST(SnapshotToolTest, ShortDeadlineWritesWhatItHasAndExitsInTime) {
  TargetTree tree(4);
  ASSERT_TRUE(tree.Ready());
  RunResult run = RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.ShellPid()),
                              "--format", "json", "--deadline", "1ms"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_LT(run.wall.count(), 1500);  // deadline + the watchdog's 500ms grace, with slack
  Json doc = Json::parse(run.out);
  EXPECT_EQ(doc["budget"]["deadlineMillis"], 1);
  EXPECT_TRUE(HasDegradedReason(doc, "deadline")) << doc["degraded"].dump(2);
  for (const Json& d : doc["degraded"]) {
    // Per process "deadline"; the evidence of the main target names its part.
    const std::string reason = d["reason"];
    EXPECT_TRUE(reason == "deadline" || (reason.starts_with("evidence.") &&
                                         reason.ends_with(": deadline") && !d.contains("pid")))
        << reason;
  }
  EXPECT_EQ(doc["processes"].size(), 2u);
}

// A process of `threads` threads that spin on the CPU (a target under real load). Killed on
// destruction.
class BusyProcess {
 public:
  explicit BusyProcess(int threads) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      std::atomic<std::uint64_t> spins{0};
      std::vector<std::thread> workers;
      workers.reserve(static_cast<size_t>(threads));
      for (int i = 0; i < threads; ++i) {
        workers.emplace_back([&spins] {
          for (;;) spins.fetch_add(1, std::memory_order_relaxed);
        });
      }
      for (;;) pause();
    }
    setpgid(pid_, pid_);
    procfs::RealProcFs proc;
    for (int attempt = 0; attempt < 500 && !ready_; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      StatusOr<std::vector<int>> tasks = proc.ListTasks(pid_);
      ready_ = tasks.ok() && tasks->size() == static_cast<size_t>(threads) + 1;
    }
  }
  ~BusyProcess() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  int Pid() const { return pid_; }
  bool Ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

// A fresh age identity: the key file and its recipient.
struct AgeIdentity {
  std::string key_file;
  std::string recipient;
};
AgeIdentity NewAgeIdentity(const TempDir& dir) {
  RunResult keygen = RunProgram({"/usr/bin/age-keygen", "-o", dir.File("key.txt")});
  EXPECT_EQ(keygen.exit_code, 0) << keygen.err;
  std::string key_file = ReadAll(dir.File("key.txt"));
  size_t at = key_file.find("# public key: ");
  if (at == std::string::npos) return {};
  return {dir.File("key.txt"), key_file.substr(at + 14, key_file.find('\n', at) - at - 14)};
}

// Decrypts `armored` with the age CLI and parses the document ({} on failure, with the error).
Json DecryptWithAgeCli(const TempDir& dir, const AgeIdentity& identity,
                       const std::string& armored) {
  std::ofstream(dir.File("snapshot.age")) << armored;
  RunResult decrypt = RunProgram({"/bin/sh", "-c", "/usr/bin/age -d -i \"$1\" \"$2\" | gunzip",
                                  "sh", identity.key_file, dir.File("snapshot.age")});
  EXPECT_EQ(decrypt.exit_code, 0) << decrypt.err;
  if (decrypt.exit_code != 0) return Json::object();
  return Json::parse(decrypt.out);
}

// The tool under a CPU budget it cannot meet (its own start-up costs more than 1ms): it still exits
// 0 with an encrypted, valid document in which every section of the busy target is degraded with
// the budget's reason, and says which budget it reached.
TEST(SnapshotToolTest, TinyCpuBudgetDegradesEverySectionAndStillDelivers) {
  BusyProcess busy(8);
  ASSERT_TRUE(busy.Ready()) << "the busy process did not start its threads";
  TempDir dir;
  AgeIdentity identity = NewAgeIdentity(dir);
  ASSERT_FALSE(identity.recipient.empty());
  RunResult run = RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(busy.Pid()),
                              "--recipient", identity.recipient, "--host-namespaces", "allow",
                              "--cpu-budget", "1ms", "--memory-budget", "64Mi"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_THAT(run.out, testing::StartsWith("-----BEGIN AGE ENCRYPTED FILE-----\n"));
  Json doc = DecryptWithAgeCli(dir, identity, run.out);
  ASSERT_TRUE(api::ValidateSnapshot(doc).ok()) << api::ValidateSnapshot(doc).ToString();
  EXPECT_EQ(doc["budget"]["cpuMillis"], 1);
  EXPECT_EQ(doc["budget"]["memoryBytes"], 64 << 20);
  EXPECT_EQ(doc["overhead"]["budgetReached"], "cpu");
  EXPECT_GE(doc["overhead"]["toolCpuMillis"].get<int64_t>(), 1);
  EXPECT_EQ(doc["targets"]["pids"], Json::array({busy.Pid()}));
  std::set<std::string> degraded_sections;
  for (const Json& d : doc["degraded"]) {
    const std::string reason = d["reason"];
    EXPECT_THAT(reason, HasSubstr("CPU budget of 1ms reached")) << d.dump();
    if (d.value("pid", 0) == busy.Pid()) degraded_sections.insert(d["section"]);
  }
  EXPECT_EQ(degraded_sections.size(), 9u) << doc["degraded"].dump(2);
  const Json* process = FindProcess(doc, busy.Pid());
  ASSERT_NE(process, nullptr);
  EXPECT_FALSE(process->contains("threads"));
  // The controller takes the document as it takes any other.
  StatusOr<api::SnapshotFacts> facts = api::ParseSnapshotDocument(doc.dump());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->overhead.budget_reached, "cpu");
}

// A budget the capture fits in is not reported: the busy target's threads are all there.
TEST(SnapshotToolTest, AmpleBudgetsLeaveTheCaptureAlone) {
  BusyProcess busy(8);
  ASSERT_TRUE(busy.Ready());
  RunResult run =
      RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(busy.Pid()), "--format", "json",
                  "--host-namespaces", "allow", "--capture", "process,threads", "--cpu-budget",
                  "10s", "--memory-budget", "256Mi"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Json doc = Json::parse(run.out);
  EXPECT_FALSE(doc["overhead"].contains("budgetReached")) << doc["overhead"].dump();
  EXPECT_TRUE(doc["degraded"].empty()) << doc["degraded"].dump(2);
  const Json* process = FindProcess(doc, busy.Pid());
  ASSERT_NE(process, nullptr);
  EXPECT_EQ((*process)["threads"].size(), 9u);
}

// The tool's own peak RSS is over 1 MiB before it reads anything: the memory budget stops it the
// same way, and the RLIMIT_DATA backstop (1Mi + 320Mi) leaves it room to write the document.
TEST(SnapshotToolTest, TinyMemoryBudgetDegradesAndStillDelivers) {
  BusyProcess busy(4);
  ASSERT_TRUE(busy.Ready());
  RunResult run =
      RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(busy.Pid()), "--format", "json",
                  "--host-namespaces", "allow", "--memory-budget", "1Mi"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Json doc = Json::parse(run.out);
  EXPECT_EQ(doc["overhead"]["budgetReached"], "memory");
  EXPECT_TRUE(HasDegradedReason(doc, "memory budget of 1Mi reached")) << doc["degraded"].dump(2);
  EXPECT_FALSE(doc["budget"].contains("cpuMillis"));
}

TEST(SnapshotToolTest, OutputCapIsHonoredAndReported) {
  TargetTree tree(64);
  ASSERT_TRUE(tree.Ready());
  RunResult run = RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.TargetPid()),
                              "--format", "json", "--max-output-bytes", "16Ki"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_FALSE(run.out.empty());
  EXPECT_EQ(run.out.back(), '\n');
  EXPECT_LE(run.out.size() - 1, 16u * 1024);
  Json doc = Json::parse(run.out);
  EXPECT_TRUE(HasDegradedReason(doc, "output cap: dropped to fit --max-output-bytes 16384"));
  ASSERT_EQ(doc["processes"].size(), 1u);
  EXPECT_EQ(doc["processes"][0]["pid"], tree.TargetPid());
}

TEST(SnapshotToolTest, RestrictedProfileReportsStacksDegraded) {
  // As a pod runs it: the tool as the target's user. (The tool drops every capability in this
  // profile, so run as root it could not read a root target holding capabilities.)
  TargetTree tree(2, 65534);
  ASSERT_TRUE(tree.Ready());
  RunResult run = RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.TargetPid()),
                              "--format", "json", "--profile", "restricted"},
                             65534);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Json doc = Json::parse(run.out);
  ASSERT_EQ(doc["degraded"].size(), 1u) << doc["degraded"].dump(2);
  EXPECT_EQ(doc["degraded"][0]["section"], "stacks");
  EXPECT_EQ(doc["degraded"][0]["reason"], "profile restricted: no CAP_SYS_PTRACE");
  EXPECT_EQ(doc["overhead"]["targetFreezeMicros"], 0);
}

TEST(SnapshotToolTest, UnprivilegedRunSaysWhatItCouldNotRead) {
  TargetTree tree(2);
  ASSERT_TRUE(tree.Ready());
  RunResult run = RunProgram(
      {EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.TargetPid()), "--format", "json"},
      65534);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Json doc = Json::parse(run.out);
  std::set<std::string> degraded_sections;
  for (const Json& d : doc["degraded"]) degraded_sections.insert(d["section"]);
  for (const char* section : {"stacks", "env", "fds", "maps"}) {
    EXPECT_EQ(degraded_sections.count(section), 1u) << section << ": " << doc["degraded"].dump(2);
  }
  EXPECT_TRUE(HasDegradedReason(doc, "EACCES"));
  EXPECT_TRUE(HasDegradedReason(doc, "process runs as uid 0, the tool as uid 65534"));
  EXPECT_THAT(run.out, Not(HasSubstr(kEnvSecret)));
  // What is world-readable is still there.
  const Json* target = FindProcess(doc, tree.TargetPid());
  ASSERT_NE(target, nullptr);
  EXPECT_TRUE(target->contains("threads"));
  EXPECT_TRUE(target->contains("limits"));
}

TEST(SnapshotToolTest, PtraceProfileWithThePodsCapabilitiesReadsANonRootTarget) {
  // The ptrace profile as a pod runs it: root with only SYS_PTRACE and DAC_READ_SEARCH, the
  // sandbox on, the target another user whose binary sits in a folder root cannot search without
  // DAC_READ_SEARCH.
  TargetTree tree(2, 65534);
  ASSERT_TRUE(tree.Ready()) << "ephemera-target did not start serving as uid 65534";
  RunResult run = RunProgram(
      {EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.TargetPid()), "--format", "json"},
      std::nullopt, kPodPtraceCapabilities);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Json doc = Json::parse(run.out);
  EXPECT_TRUE(doc["degraded"].empty()) << doc["degraded"].dump(2);
  const Json* target = FindProcess(doc, tree.TargetPid());
  ASSERT_NE(target, nullptr);
  EXPECT_TRUE(AnySymbolContains(AllSymbols(*target), "SleepInCheckoutLoop"));
  for (const char* key : {"env", "fds", "io"}) EXPECT_TRUE(target->contains(key)) << key;
  EXPECT_THAT(run.out, Not(HasSubstr(kEnvSecret)));
}

TEST(SnapshotToolTest, WithoutDacReadSearchANonRootTargetIsHalfUnreadable) {
  // Why the ptrace profile keeps DAC_READ_SEARCH: root without it (DAC_OVERRIDE is dropped too)
  // is "other" to a process of another user. /proc/<pid>/environ, io and fd/ are 0400/0500 owned by
  // that user, and the binary's folder is 0700: SYS_PTRACE alone passes the ptrace check but not
  // the file permission check that comes first.
  TargetTree tree(2, 65534);
  ASSERT_TRUE(tree.Ready()) << "ephemera-target did not start serving as uid 65534";
  RunResult run = RunProgram(
      {EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.TargetPid()), "--format", "json"},
      std::nullopt, CapBit(CAP_SYS_PTRACE));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Json doc = Json::parse(run.out);
  std::set<std::string> degraded_sections;
  for (const Json& d : doc["degraded"]) degraded_sections.insert(d["section"]);
  for (const char* section : {"env", "fds"}) {
    EXPECT_EQ(degraded_sections.count(section), 1u) << section << ": " << doc["degraded"].dump(2);
  }
  const Json* target = FindProcess(doc, tree.TargetPid());
  ASSERT_NE(target, nullptr);
  EXPECT_FALSE(AnySymbolContains(AllSymbols(*target), "SleepInCheckoutLoop"));
}

// The built tool, started with its stdout a pipe that is already full and never read: it captures,
// then blocks writing its document until the test ends it. Optionally as another uid (a copy of the
// tool, see CopyForAnyone). The pipe belongs to the tool's uid, as its stdout would in a pod.
class BlockedTool {
 public:
  BlockedTool(const std::vector<std::string>& args, std::optional<uid_t> as_uid) {
    std::vector<std::string> argv = {EPHEMERA_SNAPSHOT_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    argv = WithHostSessionIfNeeded(std::move(argv));
    if (as_uid) argv[0] = CopyForAnyone(argv[0], dir_.File(""));
    int fds[2];
    setfsuid(as_uid.value_or(0));  // a pipe's inode belongs to the creator's fsuid
    const bool piped = pipe(fds) == 0;
    setfsuid(0);
    if (!piped) return;
    read_end_ = fds[0];
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    const std::string block(4096, 'x');
    while (write(fds[1], block.data(), block.size()) > 0) {
    }
    fcntl(fds[1], F_SETFL, 0);
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      int devnull = open("/dev/null", O_RDWR);
      dup2(devnull, STDERR_FILENO);
      if (as_uid && !BecomeUser(*as_uid)) _exit(126);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    close(fds[1]);
    blocked_ = WaitUntilBlocked();
  }
  ~BlockedTool() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (read_end_ >= 0) close(read_end_);
  }
  pid_t Pid() const { return pid_; }
  // True once the tool sat in pipe_write: it has started, captured and is writing its document.
  bool Blocked() const { return blocked_; }

 private:
  bool WaitUntilBlocked() const {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      if (ReadAll("/proc/" + std::to_string(pid_) + "/wchan").find("pipe_write") !=
          std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int read_end_ = -1;
  bool blocked_ = false;
};

// A process running `/bin/sleep` as `uid` (dumpable, as any program exec'd by its user is), its
// stdout a pipe of that user's, as BlockedTool's.
class SleepingProcess {
 public:
  explicit SleepingProcess(uid_t uid) {
    int fds[2];
    setfsuid(uid);  // a pipe's inode belongs to the creator's fsuid
    const bool piped = pipe(fds) == 0;
    setfsuid(0);
    if (!piped) return;
    read_end_ = fds[0];
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      if (!BecomeUser(uid)) _exit(126);
      execl("/bin/sleep", "sleep", "600", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    // Until sleep has been exec'd (its command line is then "sleep").
    for (int attempt = 0; attempt < 500; ++attempt) {
      if (ReadAll("/proc/" + std::to_string(pid_) + "/comm") == "sleep\n") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~SleepingProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (read_end_ >= 0) close(read_end_);
  }
  pid_t Pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int read_end_ = -1;
};

// What a process of `uid` with no capabilities gets when it tries to take over `pid`: 0 per attempt
// that worked, or its errno. Each attempt runs in a process of its own (a tracer's exit detaches).
std::map<std::string, int> TamperAs(uid_t uid, pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  // An address mapped in the victim, read as root (a same-UID attacker could read maps itself).
  const std::string maps = ReadAll(proc + "/maps");
  const uint64_t address = std::stoull(maps.substr(0, maps.find('-')), nullptr, 16);
  const std::vector<std::pair<std::string, std::function<int()>>> attempts = {
      {"process_vm_readv",
       [&] {
         char byte = 0;
         iovec local{&byte, 1};
         // An address in the other process, never dereferenced here.
         iovec remote{reinterpret_cast<void*>(address), 1};  // NOLINT(performance-no-int-to-ptr)
         return process_vm_readv(pid, &local, 1, &remote, 1, 0) == 1 ? 0 : errno;
       }},
      {"open mem", [&] { return open((proc + "/mem").c_str(), O_RDONLY) >= 0 ? 0 : errno; }},
      {"open environ",
       [&] { return open((proc + "/environ").c_str(), O_RDONLY) >= 0 ? 0 : errno; }},
      {"write to fd/1", [&] { return open((proc + "/fd/1").c_str(), O_WRONLY) >= 0 ? 0 : errno; }},
      {"PTRACE_SEIZE",
       [&] { return ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0 ? 0 : errno; }},
      {"PTRACE_ATTACH",
       [&] { return ptrace(PTRACE_ATTACH, pid, nullptr, nullptr) == 0 ? 0 : errno; }},
  };
  std::map<std::string, int> outcomes;
  for (const auto& [name, attempt] : attempts) {
    pid_t child = fork();
    if (child == 0) {
      if (!BecomeUser(uid)) _exit(126);
      _exit(attempt());
    }
    int status = 0;
    waitpid(child, &status, 0);
    outcomes[name] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return outcomes;
}

TEST(SnapshotToolTest, ASameUidProcessCannotTamperWithTheRunningTool) {
  // The restricted profile as a pod runs it: the tool as the target's user, no capabilities.
  constexpr uid_t kUser = 65534;
  SleepingProcess control(kUser);
  // The test's assumption (no Yama here, or ptrace_scope 0): a process can take over a dumpable
  // process of its own user. Without it the test could not tell the tool's defence apart.
  std::map<std::string, int> on_control = TamperAs(kUser, control.Pid());
  for (const auto& [attempt, result] : on_control) {
    ASSERT_EQ(result, 0) << attempt << " on a dumpable process of the same uid failed (errno "
                         << result
                         << "): the kernel (Yama?) forbids it, so this test proves nothing";
  }

  BlockedTool tool({"--pid", std::to_string(control.Pid()), "--format", "json", "--profile",
                    "restricted", "--deadline", "60s"},
                   kUser);
  ASSERT_TRUE(tool.Blocked()) << "the tool did not reach writing its document";
  std::map<std::string, int> on_tool = TamperAs(kUser, tool.Pid());
  ASSERT_EQ(on_tool.size(), on_control.size());
  for (const auto& [attempt, result] : on_tool) {
    EXPECT_THAT(result, AnyOf(EPERM, EACCES)) << attempt << " on the tool";
  }
}

TEST(SnapshotToolTest, TheRunningToolIsSandboxed) {
  // Each profile as a pod runs it: ptrace as root, restricted as the target's user.
  SleepingProcess target(65534);
  for (const auto& [profile, uid] :
       {std::pair<std::string, std::optional<uid_t>>{"ptrace", {}}, {"restricted", 65534}}) {
    BlockedTool tool({"--pid", std::to_string(target.Pid()), "--format", "json", "--profile",
                      profile, "--deadline", "60s"},
                     uid);
    ASSERT_TRUE(tool.Blocked()) << profile << ": the tool did not reach writing its document";
    const std::string proc = "/proc/" + std::to_string(tool.Pid());
    const std::string status = ReadAll(proc + "/status");
    EXPECT_THAT(status, HasSubstr("NoNewPrivs:\t1\n")) << profile;
    EXPECT_THAT(status, HasSubstr("Seccomp:\t2\n")) << profile;
    const std::string effective = profile == "ptrace" ? "0000000000080004" : "0000000000000000";
    EXPECT_THAT(status, HasSubstr("CapEff:\t" + effective + "\n")) << profile;
    if (!kSanitizerBuild) {
      EXPECT_THAT(ReadAll(proc + "/limits"),
                  testing::ContainsRegex("Max address space +1073741824 +1073741824 +bytes"))
          << profile;
    }
    if (uid) {
      struct stat st {};
      ASSERT_EQ(stat((proc + "/status").c_str(), &st), 0);
      EXPECT_EQ(st.st_uid, 0u) << "a non-dumpable process's /proc/<pid>/* belong to root";
    }
  }
}

TEST(SnapshotToolTest, UsageErrorsExitTwoAndNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const Case cases[] = {
      {{}, "--recipient: --format age (the default) needs at least one --recipient"},
      {{"--format", "json", "--deadline", "soon"}, "--deadline: want a duration"},
      {{"--format", "json", "--capture", "threads,heap"}, "--capture: unknown section \"heap\""},
      {{"--frobnicate"}, "unknown flag \"--frobnicate\""},
      {{"--recipient", "age1notarealrecipient"}, "--recipient:"},
      {{"--format", "json", "--extra-pattern", "ab"}, "redaction policy:"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {EPHEMERA_SNAPSHOT_PATH};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    RunResult run = RunProgram(argv);
    EXPECT_EQ(run.exit_code, 2) << c.expected;
    EXPECT_THAT(run.err, HasSubstr(c.expected));
    EXPECT_EQ(run.out, "") << c.expected;
  }
  RunResult help = RunProgram({EPHEMERA_SNAPSHOT_PATH, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("Usage: ephemera-snapshot"));
  RunResult version = RunProgram({EPHEMERA_SNAPSHOT_PATH, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, testing::StartsWith("ephemera-snapshot "));
}

TEST(SnapshotToolTest, MissingPidWritesADocumentAndExitsOne) {
  RunResult run = RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", "1073741823", "--format", "json"});
  EXPECT_EQ(run.exit_code, 1);
  Json doc = Json::parse(run.out);
  EXPECT_TRUE(doc["processes"].empty());
  EXPECT_TRUE(HasDegradedReason(doc, "not found"));
}

// H2: a session on a hostPID pod puts the tool in the node's PID namespace. Unless the controller
// says the session is a host session, it captures nothing there.
TEST(SnapshotToolTest, InTheNodesPidNamespaceItCapturesNothingWithoutAHostSession) {
  if (!InInitialPidNamespace()) {
    GTEST_SKIP()
        << "the tests run inside a PID namespace of their own here (a container?), not the "
           "node's, so the refusal this checks cannot happen; on a bare host (make test "
           "on this machine) it runs";
  }
  TargetTree tree(1);
  ASSERT_TRUE(tree.Ready()) << "ephemera-target did not start serving";
  RunResult run = RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.TargetPid()),
                              "--format", "json", "--host-namespaces", "deny"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  Json doc = Json::parse(run.out);
  EXPECT_TRUE(doc["processes"].empty());
  EXPECT_TRUE(doc["targets"]["pids"].empty());
  EXPECT_TRUE(HasDegradedReason(doc, "node's PID namespace")) << doc["degraded"].dump();
}

// H2: with --container-id, a process outside that container is never captured, even by --pid.
TEST(SnapshotToolTest, AProcessOutsideTheNamedContainerIsNotCaptured) {
  TargetTree tree(1);
  ASSERT_TRUE(tree.Ready()) << "ephemera-target did not start serving";
  RunResult run =
      RunProgram({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(tree.TargetPid()), "--format",
                  "json", "--container-id", "containerd://0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  Json doc = Json::parse(run.out);
  EXPECT_TRUE(doc["processes"].empty());
  EXPECT_TRUE(HasDegradedReason(doc, "is not in container 0123456789abcdef"))
      << doc["degraded"].dump();
}

// What a forked child wrote to its stdout (a pipe) and its wait status; `body` runs in the child
// and must not return (the child exits 96 if it does). status is -1 if the child could not be made.
struct ChildRun {
  std::string out;
  int status = -1;
};
ChildRun RunInChild(const std::function<void()>& body) {
  ChildRun run;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return run;
  pid_t child = fork();
  if (child < 0) return run;
  if (child == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    body();
    _exit(96);
  }
  close(pipe_fds[1]);
  char buf[256];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) run.out.append(buf, static_cast<size_t>(n));
  close(pipe_fds[0]);
  if (waitpid(child, &run.status, 0) != child) run.status = -1;
  return run;
}

TEST(WatchdogTest, FiresWritesTheFallbackAndExits) {
  ChildRun run = RunInChild([] {
    Watchdog watchdog(Clock::now() + std::chrono::milliseconds(50), "fallback document\n");
    for (;;) pause();  // a capture that never finishes
  });
  ASSERT_TRUE(run.status != -1 && WIFEXITED(run.status)) << run.status;
  EXPECT_EQ(WEXITSTATUS(run.status), kWatchdogExitCode);
  EXPECT_EQ(run.out, "fallback document\n");
}

TEST(WatchdogTest, AfterOutputIsClaimedItOnlyExits) {
  ChildRun run = RunInChild([] {
    Watchdog watchdog(Clock::now() + std::chrono::milliseconds(50), "fallback document\n");
    if (!watchdog.ClaimOutput()) _exit(99);
    WriteAll(STDOUT_FILENO, "real ");
    for (;;) pause();  // stuck while writing
  });
  ASSERT_TRUE(run.status != -1 && WIFEXITED(run.status)) << run.status;
  EXPECT_EQ(WEXITSTATUS(run.status), kWatchdogExitCode);
  EXPECT_EQ(run.out, "real ");
}

// The CPU backstop: at RLIMIT_CPU's soft limit the kernel sends SIGXCPU, and the handler writes
// the prepared document and exits like the watchdog (instead of dying with no output).
TEST(WatchdogTest, CpuBackstopWritesItsDocumentAtTheSoftLimit) {
  ChildRun run = RunInChild([] {
    Watchdog watchdog(Clock::now() + std::chrono::seconds(60), "watchdog document\n");
    if (!watchdog.ArmCpuBackstop("cpu backstop document\n").ok()) _exit(97);
    if (!LimitCpuTime(std::chrono::seconds(1), std::chrono::seconds(3)).ok()) _exit(98);
    volatile std::uint64_t spins = 0;
    for (;;) spins = spins + 1;  // a parser loop that never ends
  });
  ASSERT_NE(run.status, -1);
  ASSERT_TRUE(WIFEXITED(run.status)) << "killed by signal " << WTERMSIG(run.status);
  EXPECT_EQ(WEXITSTATUS(run.status), kWatchdogExitCode);
  EXPECT_EQ(run.out, "cpu backstop document\n");
}

TEST(WatchdogTest, DestroyedBeforeFiringDoesNothing) {
  auto start = Clock::now();
  { Watchdog watchdog(start + std::chrono::seconds(30), "unused"); }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace ephemera::snapshot
