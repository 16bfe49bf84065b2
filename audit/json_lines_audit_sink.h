// JsonLinesAuditSink: writes each record as one line of JSON (ToJson, dump()ed, then "\n") to a
// file descriptor: stdout in production, so the container runtime keeps the stream beside the
// controller's logs, and the verifier reads it back from `kubectl logs`.
//
// Errors: kUnavailable when the descriptor does not take the whole line (EPIPE, ENOSPC, EBADF,
// EIO, ...), with the errno text. A write the descriptor accepted only in part leaves a fragment;
// the next successful Write first ends that fragment with "\n" so the following record starts on
// its own line (the verifier reports the fragment as a malformed record line).
//
// SIGPIPE: Write never lets a broken pipe kill the process. It blocks SIGPIPE in the calling
// thread around the write and discards a SIGPIPE that the write itself raised, so callers need not
// ignore SIGPIPE process-wide (doing so anyway is harmless).
//
// Blocking: a descriptor in blocking mode blocks Write while the reader is slow (back-pressure);
// on a non-blocking one Write waits for it with poll().
//
// Ownership: borrows the descriptor (it is not closed). Thread safety: Write calls must not run
// concurrently (AuditLog serializes them); lines written to the same descriptor by other writers
// (the logger) do not interleave with a record line shorter than PIPE_BUF (4096 bytes on Linux).
#ifndef EPHEMERA_AUDIT_JSON_LINES_AUDIT_SINK_H_
#define EPHEMERA_AUDIT_JSON_LINES_AUDIT_SINK_H_

#include <string_view>

#include "audit/audit_sink.h"

namespace ephemera::audit {

class JsonLinesAuditSink : public AuditSink {
 public:
  explicit JsonLinesAuditSink(int fd) : fd_(fd) {}

  Status Write(const SealedRecord& record) override;

 private:
  // Writes all of `data`; on failure returns kUnavailable and how many bytes went out.
  Status WriteAll(std::string_view data, std::size_t& written);

  int fd_;
  bool fragment_open_ = false;  // a previous line was cut short
};

}  // namespace ephemera::audit

#endif  // EPHEMERA_AUDIT_JSON_LINES_AUDIT_SINK_H_
