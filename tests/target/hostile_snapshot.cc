// ephemera-hostile-snapshot: a stand-in for the snapshot tool that writes what a workload which
// took the tool over could write (security review, H3). For cluster tests only: its image replaces
// the snapshot image of a test installation, and the controller must fail the session with a clear
// reason, keep serving the others, and never restart.
//
// It takes the command line the controller gives the real tool (session/ephemeral_container.cc):
// the session key's recipient after --recipient, and the session's spec.redaction.extraPatterns
// after --extra-pattern. The mode is the extra pattern "ephemera-test-mode=MODE":
//   garbage     bytes that are not JSON, encrypted to the recipient
//   deep        a snapshot document nested 10 000 levels deep under "targets", encrypted
//   apiversion  {"apiVersion":1}, encrypted
//   degraded    a document whose degraded[0].section is a number, encrypted
//   line        a 50 MiB line, not encrypted
// Encrypted output is ASCII-armored age on stdout, as the real tool writes it. Exits 0 (the
// controller collects only from a tool that succeeded); 2 on a command line it cannot use.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "envelope/envelope.h"

namespace {

constexpr std::string_view kModePrefix = "ephemera-test-mode=";
constexpr std::string_view kFormat = "ephemera.dev/snapshot/v1";

int Usage(const std::string& problem) {
  std::fprintf(
      stderr,
      "ephemera-hostile-snapshot: %s\nusage: ephemera-hostile-snapshot --recipient age1... "
      "--extra-pattern ephemera-test-mode=garbage|deep|apiversion|degraded|line "
      "[other flags of ephemera-snapshot, ignored]\n",
      problem.c_str());
  return 2;
}

bool WriteAll(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The plaintext of an encrypted mode; empty for an unknown mode.
std::string Plaintext(std::string_view mode) {
  if (mode == "garbage") {
    std::string garbage = "this is not a snapshot\n";
    for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) % 256));
    return garbage;
  }
  if (mode == "deep") {
    constexpr std::size_t kDepth = 10000;
    return R"({"apiVersion":")" + std::string(kFormat) + R"(","targets":)" +
           std::string(kDepth, '[') + std::string(kDepth, ']') + "}";
  }
  if (mode == "apiversion") return R"({"apiVersion":1})";
  if (mode == "degraded") {
    return R"({"apiVersion":")" + std::string(kFormat) +
           R"(","sections":["process"],"degraded":[{"section":7,"reason":"x"}]})";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::string recipient;
  std::string mode;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--recipient" && has_value) {
      recipient = args[++i];
    } else if (args[i] == "--extra-pattern" && has_value) {
      const std::string& pattern = args[++i];
      if (pattern.starts_with(kModePrefix)) mode = pattern.substr(kModePrefix.size());
    }
  }
  if (mode.empty()) return Usage("no --extra-pattern ephemera-test-mode=MODE");

  if (mode == "line") {
    const std::string line((std::size_t{50} << 20) - 1, 'A');
    return WriteAll(line) && WriteAll("\n") ? 0 : 1;
  }
  const std::string plaintext = Plaintext(mode);
  if (plaintext.empty()) return Usage("unknown mode \"" + mode + "\"");
  if (recipient.empty()) return Usage("no --recipient");
  auto sealed = ephemera::envelope::Seal(plaintext, {recipient});
  if (!sealed.ok()) return Usage("cannot encrypt: " + sealed.status().ToString());
  return WriteAll(*sealed) ? 0 : 1;
}
