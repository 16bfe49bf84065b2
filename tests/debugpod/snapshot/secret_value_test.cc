// Component tests of value-keyed redaction (issue 15, item 3): the built ephemera-snapshot against
// a real process whose hidden environment values also appear in its command line, as in
// `mysqld -p$(DB_PASSWORD)`, where "-p" alone says little. Run on the build host.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ephemera::snapshot {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

// A value no rule recognises by its shape: lower-case letters and digits, 14 characters, random
// per run so that nothing can be tuned to it.
std::string RandomPlainValue() {
  std::random_device device;
  std::mt19937 rng(device());
  constexpr std::string_view kChars = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out = "v";
  for (int i = 0; i < 13; ++i) out.push_back(kChars[rng() % kChars.size()]);
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool InInitialPidNamespace() {
  std::array<char, 64> link{};
  ssize_t n = readlink("/proc/self/ns/pid", link.data(), link.size() - 1);
  return n > 0 && std::string(link.data(), static_cast<size_t>(n)) == "pid:[4026531836]";
}

// `sh -c 'sleep 60; :' dbserver -p<password> --mode=<mode> --key-hint <bound>` with those values in
// its environment: DB_PASSWORD (hidden by default), APP_MODE (shown: allowlisted by the test),
// BOUND_VALUE (allowlisted but named by --secret-env, as a Secret-bound variable is). Killed on
// destruction.
class Target {
 public:
  Target(const std::string& password, const std::string& mode, const std::string& bound) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int devnull = open("/dev/null", O_RDWR);
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
      const std::string p = "-p" + password;
      const std::string m = "--mode=" + mode;
      const char* argv[] = {"/bin/sh", "-c",         "sleep 60; :", "dbserver", p.c_str(),
                            m.c_str(), "--key-hint", bound.c_str(), nullptr};
      const std::string e1 = "DB_PASSWORD=" + password;
      const std::string e2 = "APP_MODE=" + mode;
      const std::string e3 = "BOUND_VALUE=" + bound;
      const char* envp[] = {"PATH=/usr/bin:/bin", e1.c_str(), e2.c_str(), e3.c_str(), nullptr};
      execve("/bin/sh", const_cast<char**>(argv), const_cast<char**>(envp));
      _exit(127);
    }
    setpgid(pid_, pid_);
    // The shell has exec'd when its cmdline is ours.
    for (int attempt = 0; attempt < 500; ++attempt) {
      if (ReadAll("/proc/" + std::to_string(pid_) + "/cmdline").find("dbserver") !=
          std::string::npos) {
        ready_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~Target() {
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

struct RunResult {
  int exit_code = -1;
  std::string out;
};

RunResult RunSnapshot(std::vector<std::string> args) {
  if (InInitialPidNamespace()) {
    args.push_back("--host-namespaces");
    args.push_back("allow");
  }
  char out_template[] = "/tmp/secret-value-test-XXXXXX";
  const int out_fd = mkstemp(out_template);
  RunResult result;
  if (out_fd < 0) return result;
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(EPHEMERA_SNAPSHOT_PATH));
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, STDOUT_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(out_fd);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadAll(out_template);
  std::filesystem::remove(out_template);
  return result;
}

TEST(SecretValueTest, HiddenEnvValuesAreRedactedInTheCommandLine) {
  const std::string password = RandomPlainValue();
  const std::string mode = RandomPlainValue();
  const std::string bound = RandomPlainValue();
  Target target(password, mode, bound);
  ASSERT_TRUE(target.Ready()) << "the target did not start";
  const RunResult run = RunSnapshot({"--pid", std::to_string(target.Pid()), "--format", "json",
                                     "--capture", "process,env", "--allow-env", "APP_MODE",
                                     "--allow-env", "BOUND_VALUE", "--secret-env", "BOUND_VALUE"});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const Json doc = Json::parse(run.out);
  ASSERT_FALSE(doc["processes"].empty());
  const std::string cmdline = doc["processes"][0].value("cmdline", "");

  // Hidden by default (DB_PASSWORD) and Secret-bound (BOUND_VALUE): nowhere in the document.
  EXPECT_THAT(run.out, Not(HasSubstr(password)));
  EXPECT_THAT(run.out, Not(HasSubstr(bound)));
  EXPECT_THAT(cmdline, HasSubstr("dbserver -p[REDACTED:secret-value]"));
  EXPECT_THAT(cmdline, HasSubstr("--key-hint [REDACTED:secret-value]"));
  EXPECT_GE(doc["redaction"]["patternsMatched"].value("secret-value", 0), 2);
  // A shown value is not a secret: it stays, in the env section and in the command line.
  EXPECT_THAT(cmdline, HasSubstr("--mode=" + mode));
}

TEST(SecretValueTest, WithoutTheEnvironmentValueThePasswordWouldShow) {
  // The control: the same command line with the password not in the environment comes out as
  // is, so the test above proves value-keyed redaction, not a shape rule.
  const std::string password = RandomPlainValue();
  Target target(password, RandomPlainValue(), RandomPlainValue());
  ASSERT_TRUE(target.Ready());
  const RunResult run = RunSnapshot({"--pid", std::to_string(target.Pid()), "--format", "json",
                                     "--capture", "process", "--allow-env", "DB_PASSWORD"});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("-p" + password));
}

}  // namespace
}  // namespace ephemera::snapshot
