#include "audit/json_lines_audit_sink.h"

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <string>

namespace ephemera::audit {
namespace {

// Blocks SIGPIPE in this thread for its lifetime; a SIGPIPE raised meanwhile by our own write is
// consumed on destruction, so the process's disposition (default: terminate) never sees it.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_mask_);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~ScopedSigpipeBlock() {
    if (raised_ && !was_pending_) {
      timespec zero{};
      while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

  void NoteEpipe() { raised_ = true; }

 private:
  sigset_t pipe_{};
  sigset_t old_mask_{};
  bool was_pending_ = false;
  bool raised_ = false;
};

}  // namespace

Status JsonLinesAuditSink::WriteAll(std::string_view data, std::size_t& written) {
  ScopedSigpipeBlock block;
  written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + written, data.size() - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, -1) >= 0 || errno == EINTR) continue;
    }
    const int error = n < 0 ? errno : EIO;
    if (error == EPIPE) block.NoteEpipe();
    return UnavailableError("writing audit record to fd " + std::to_string(fd_) + ": " +
                            std::strerror(error));
  }
  return OkStatus();
}

Status JsonLinesAuditSink::Write(const SealedRecord& record) {
  const std::size_t prefix = fragment_open_ ? 1 : 0;
  std::string line(prefix, '\n');
  line += ToJson(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  std::size_t written = 0;
  Status status = WriteAll(line, written);
  if (status.ok()) {
    fragment_open_ = false;
  } else if (written > 0) {
    fragment_open_ = written > prefix;
  }
  return status;
}

}  // namespace ephemera::audit
