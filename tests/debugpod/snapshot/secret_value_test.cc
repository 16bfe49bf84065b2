// Component tests of value-keyed redaction and the PII mode: the built
// ephemera-snapshot against a real process whose hidden environment values also appear in its
// command line, as in `mysqld -p$(DB_PASSWORD)`, where "-p" alone says little; and against one
// whose command line and socket hold personal data. Run on the build host.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
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

// `sh -c 'sleep 60; :' NAME ARGS...` with environment `env` (and PATH): a process whose command
// line the test chooses, alive until destroyed (killed with its process group). Descriptors the
// test opened without O_CLOEXEC are inherited.
class ShellTarget {
 public:
  ShellTarget(const std::string& name, const std::vector<std::string>& args,
              const std::vector<std::string>& env) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int devnull = open("/dev/null", O_RDWR);
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
      std::vector<const char*> argv = {"/bin/sh", "-c", "sleep 60; :", name.c_str()};
      for (const std::string& a : args) argv.push_back(a.c_str());
      argv.push_back(nullptr);
      std::vector<const char*> envp = {"PATH=/usr/bin:/bin"};
      for (const std::string& e : env) envp.push_back(e.c_str());
      envp.push_back(nullptr);
      execve("/bin/sh", const_cast<char**>(argv.data()), const_cast<char**>(envp.data()));
      _exit(127);
    }
    setpgid(pid_, pid_);
    // The shell has exec'd when its cmdline is ours.
    for (int attempt = 0; attempt < 500; ++attempt) {
      if (ReadAll("/proc/" + std::to_string(pid_) + "/cmdline").find(name) != std::string::npos) {
        ready_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ShellTarget(const ShellTarget&) = delete;
  ShellTarget& operator=(const ShellTarget&) = delete;
  ~ShellTarget() {
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

// `dbserver -p<password> --mode=<mode> --key-hint <bound>` with those values in its environment:
// DB_PASSWORD (hidden by default), APP_MODE (shown: allowlisted by the test), BOUND_VALUE
// (allowlisted but named by --secret-env, as a Secret-bound variable is).
class Target : public ShellTarget {
 public:
  Target(const std::string& password, const std::string& mode, const std::string& bound)
      : ShellTarget("dbserver", {"-p" + password, "--mode=" + mode, "--key-hint", bound},
                    {"DB_PASSWORD=" + password, "APP_MODE=" + mode, "BOUND_VALUE=" + bound}) {}
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

// --- PII mode ---------------------------------------------------------------------------------

// Random personal data of each kind, with check digits computed here (independently of the
// redactor): the values differ on every run.
class PiiValues {
 public:
  PiiValues() : rng_(std::random_device()()) {}
  std::string Digits(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.push_back(static_cast<char>('0' + rng_() % 10));
    return out;
  }
  std::string Email() { return "u" + Digits(6) + ".tester@mail.example.org"; }
  // A 16-digit Visa number (prefix 4) with its Luhn check digit, in four groups.
  std::string Card() {
    std::string number = "4" + Digits(14);
    int sum = 0;
    for (size_t i = 0; i < number.size(); ++i) {  // from the right, the check digit excluded
      int d = number[number.size() - 1 - i] - '0';
      if (i % 2 == 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    number.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
    return number.substr(0, 4) + " " + number.substr(4, 4) + " " + number.substr(8, 4) + " " +
           number.substr(12, 4);
  }
  // A German IBAN (22 characters): DE, check digits, 18 digits; ISO 13616 mod 97.
  std::string Iban() {
    const std::string bban = Digits(18);
    const std::string rearranged = bban + "1314" + "00";  // D = 13, E = 14
    int remainder = 0;
    for (char c : rearranged) remainder = (remainder * 10 + (c - '0')) % 97;
    const int check = 98 - remainder;
    return std::string("DE") + static_cast<char>('0' + check / 10) +
           static_cast<char>('0' + check % 10) + bban;
  }
  std::string Phone() { return "+44 20 7946 " + Digits(4); }
  std::string PrivateAddress() {
    return "10." + std::to_string(1 + rng_() % 254) + "." + std::to_string(rng_() % 256) + "." +
           std::to_string(1 + rng_() % 254);
  }

 private:
  std::mt19937 rng_;
};

// `notifier ARGS...` holding a UDP socket connected to `peer`:5353 when the host has a route there
// (Connected() says).
class PiiTarget {
 public:
  PiiTarget(const std::vector<std::string>& args, const std::string& peer)
      : socket_(socket(AF_INET, SOCK_DGRAM, 0)),  // inherited by the shell (no CLOEXEC)
        connected_(Connect(socket_, peer)),
        shell_("notifier", args, {}) {
    if (socket_ >= 0) close(socket_);
  }
  int Pid() const { return shell_.Pid(); }
  bool Ready() const { return shell_.Ready(); }
  bool Connected() const { return connected_; }

 private:
  static bool Connect(int fd, const std::string& peer) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(5353);
    return fd >= 0 && inet_pton(AF_INET, peer.c_str(), &address.sin_addr) == 1 &&
           connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }

  int socket_;
  bool connected_;
  ShellTarget shell_;
};

TEST(PiiModeTest, EachModeMasksItsKindsOfPersonalDataThroughTheRealTool) {
  PiiValues values;
  const std::string email = values.Email();
  const std::string card = values.Card();
  const std::string iban = values.Iban();
  const std::string phone = values.Phone();
  const std::string address = values.PrivateAddress();
  PiiTarget target(
      {"--notify", email, "--card", card, "--iban", iban, "--call", phone, "--upstream", address},
      address);
  ASSERT_TRUE(target.Ready()) << "the target did not start";
  const auto run = [&](const std::string& mode) {
    const RunResult r = RunSnapshot({"--pid", std::to_string(target.Pid()), "--format", "json",
                                     "--capture", "process,fds,sockets", "--pii", mode});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return r.exit_code == 0 ? Json::parse(r.out) : Json::object();
  };

  const Json none = run("none");
  ASSERT_FALSE(none["processes"].empty());
  const std::string plain = none["processes"][0].value("cmdline", "");
  EXPECT_EQ(none["redaction"]["pii"], "none");
  for (const std::string& value : {email, card, iban, phone, address}) {
    EXPECT_THAT(plain, HasSubstr(value)) << "none masks no personal data";
  }

  const Json standard = run("standard");
  ASSERT_FALSE(standard["processes"].empty());
  const std::string masked = standard["processes"][0].value("cmdline", "");
  EXPECT_THAT(masked, HasSubstr("--notify [REDACTED:email] --card [REDACTED:card-number] --iban "
                                "[REDACTED:iban] --call [REDACTED:phone-number] --upstream " +
                                address));
  const Json& counts = standard["redaction"]["patternsMatched"];
  for (const char* rule : {"email", "card-number", "iban", "phone-number"}) {
    EXPECT_GE(counts.value(rule, 0), 1) << rule;
  }

  const Json strict = run("strict");
  ASSERT_FALSE(strict["processes"].empty());
  const std::string all = strict.dump();
  for (const std::string& value : {email, card, iban, phone, address}) {
    EXPECT_THAT(all, Not(HasSubstr(value))) << "strict leaves nothing of " << value;
  }
  EXPECT_THAT(strict["processes"][0].value("cmdline", ""), HasSubstr("--upstream [REDACTED:ipv4]"));
  if (!target.Connected()) {
    GTEST_SKIP() << "this host has no route to " << address
                 << ", so the socket-endpoint part (strict masks sockets[].remote) cannot run "
                    "here; the command-line part above ran";
  }
  const auto remote_of = [&](const Json& doc) {
    for (const Json& socket : doc["processes"][0].value("sockets", Json::array())) {
      if (socket.value("protocol", "") == "udp") return socket.value("remote", "");
    }
    return std::string("(no udp socket)");
  };
  EXPECT_EQ(remote_of(standard), address + ":5353") << "standard leaves addresses";
  EXPECT_EQ(remote_of(strict), "[REDACTED:ipv4]:5353");
}

}  // namespace
}  // namespace ephemera::snapshot
