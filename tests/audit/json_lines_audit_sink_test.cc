#include "audit/json_lines_audit_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <sstream>
#include <string>

#include "audit/audit_verifier.h"

namespace ephemera::audit {
namespace {

SealedRecord RecordAfter(const ChainHead& head, const std::string& message) {
  AuditRecord r;
  r.time = "2026-11-28T23:39:24.123Z";
  r.chain = "session/pipe";
  r.action = "injected";
  r.outcome = "ok";
  r.message = message;
  r.details = {{"pids", {1}}};
  return Seal(r, head);
}

std::string ReadAvailable(int fd) {
  std::string out;
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  return out;
}

class Pipe {
 public:
  Pipe() {
    EXPECT_EQ(::pipe2(fds_.data(), O_CLOEXEC), 0);
    EXPECT_EQ(::fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
  }
  ~Pipe() {
    CloseRead();
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int ReadFd() const { return fds_[0]; }
  int WriteFd() const { return fds_[1]; }
  void CloseRead() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    fds_[0] = -1;
  }

 private:
  std::array<int, 2> fds_{-1, -1};
};

TEST(JsonLinesAuditSinkTest, WritesOneParseableLinePerRecord) {
  Pipe pipe;
  JsonLinesAuditSink sink(pipe.WriteFd());
  const SealedRecord first = RecordAfter(GenesisHead("session/pipe"), "Grüße ✓\nzwei\tZeilen");
  const SealedRecord second = RecordAfter(HeadAfter(first), "second");
  ASSERT_TRUE(sink.Write(first).ok());
  ASSERT_TRUE(sink.Write(second).ok());

  const std::string text = ReadAvailable(pipe.ReadFd());
  std::istringstream lines(text);
  std::string line;
  std::vector<SealedRecord> read;
  while (std::getline(lines, line)) {
    StatusOr<SealedRecord> r = SealedRecordFromJson(nlohmann::json::parse(line));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    read.push_back(*r);
  }
  ASSERT_EQ(read.size(), 2U);
  EXPECT_EQ(read[0], first);
  EXPECT_EQ(read[1], second);
  std::istringstream stream(text);
  EXPECT_TRUE(VerifyAuditStream(stream, {{"session/pipe", HeadAfter(second)}}).Verified());
}

// SIGPIPE keeps its default disposition (terminate) here on purpose: the sink must not let a
// closed reader kill the process.
TEST(JsonLinesAuditSinkTest, ReturnsUnavailableWhenTheReaderIsGone) {
  struct sigaction current {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &current), 0);
  ASSERT_EQ(current.sa_handler, SIG_DFL) << "the test needs SIGPIPE's default disposition";
  Pipe pipe;
  JsonLinesAuditSink sink(pipe.WriteFd());
  pipe.CloseRead();
  const Status status = sink.Write(RecordAfter(GenesisHead("session/pipe"), "lost"));
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("Broken pipe"), std::string::npos) << status.message();
  sigset_t pending;
  sigemptyset(&pending);
  ASSERT_EQ(::sigpending(&pending), 0);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0) << "the sink left a SIGPIPE pending";
}

TEST(JsonLinesAuditSinkTest, ReturnsUnavailableWhenTheDeviceIsFull) {
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << "/dev/full is needed for this test";
  JsonLinesAuditSink sink(fd);
  const Status status = sink.Write(RecordAfter(GenesisHead("session/pipe"), "full"));
  ::close(fd);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("No space left"), std::string::npos) << status.message();
}

TEST(JsonLinesAuditSinkTest, ReturnsUnavailableForAClosedDescriptor) {
  Pipe pipe;
  const int fd = ::dup(pipe.WriteFd());
  ASSERT_GE(fd, 0);
  ::close(fd);
  JsonLinesAuditSink sink(fd);
  EXPECT_EQ(sink.Write(RecordAfter(GenesisHead("session/pipe"), "closed")).code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ephemera::audit
