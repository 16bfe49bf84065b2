// FakeAuditSink: an in-memory AuditSink for tests. Stores every record it takes; FailWith makes
// the following writes fail (the records are then not stored). Thread safe.
#ifndef EPHEMERA_TESTS_AUDIT_FAKE_AUDIT_SINK_H_
#define EPHEMERA_TESTS_AUDIT_FAKE_AUDIT_SINK_H_

#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit_sink.h"

namespace ephemera::audit {

class FakeAuditSink : public AuditSink {
 public:
  Status Write(const SealedRecord& record) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++attempts_;
    if (!failure_.ok()) return failure_;
    records_.push_back(record);
    return OkStatus();
  }

  // OkStatus() restores normal operation.
  void FailWith(Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    failure_ = std::move(status);
  }

  std::vector<SealedRecord> Records() const {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }
  int Attempts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return attempts_;
  }
  // The stored records as the JSON-lines stream JsonLinesAuditSink would write.
  std::string JsonLines() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::ostringstream out;
    for (const SealedRecord& r : records_) out << ToJson(r).dump() << "\n";
    return out.str();
  }

 private:
  mutable std::mutex mu_;
  Status failure_;
  std::vector<SealedRecord> records_;
  int attempts_ = 0;
};

}  // namespace ephemera::audit

#endif  // EPHEMERA_TESTS_AUDIT_FAKE_AUDIT_SINK_H_
