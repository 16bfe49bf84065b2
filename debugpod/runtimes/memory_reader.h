// MemoryReader: reads another process's memory without stopping it. Language runtimes keep their
// goroutine, frame and thread lists in ordinary memory, so a same-UID reader needs no ptrace stop
// (the kernel allows the read where ptrace attach would be allowed: same credentials, the target
// dumpable, Yama permitting; CAP_SYS_PTRACE otherwise). Reads race with the running target: callers
// treat every value as possibly torn or hostile.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_MEMORY_READER_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_MEMORY_READER_H_

#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "base/status.h"

namespace ephemera::runtimes {

class MemoryReader {
 public:
  virtual ~MemoryReader() = default;
  // Fills `out` with the bytes at [address, address + out.size()) of the process. A partial read
  // is an error: DataLoss "EFAULT at 0x…" for unmapped memory, PermissionDenied for EPERM,
  // NotFound for a process that is gone, ResourceExhausted once the reader's byte budget is spent.
  virtual Status Read(uint64_t address, std::span<uint8_t> out) = 0;

  template <typename T>
  StatusOr<T> ReadValue(uint64_t address) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value{};
    Status s = Read(address, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof(T)));
    if (!s.ok()) return s;
    return value;
  }
};

// Reads <proc_root>/<pid>/mem with pread, at most `budget_bytes` in total (ResourceExhausted after
// that). Not process_vm_readv: the container runtimes' default seccomp profile (RuntimeDefault)
// refuses it without CAP_SYS_PTRACE, while opening /proc/<pid>/mem read-only passes the kernel's
// same ptrace access check (the target's UID and dumpable, or CAP_SYS_PTRACE) and is allowed. The
// file is opened on the first read and closed with the reader. Not thread-safe (one per capture).
class ProcMemMemoryReader final : public MemoryReader {
 public:
  ProcMemMemoryReader(std::string proc_root, int pid, uint64_t budget_bytes)
      : path_(std::move(proc_root) + "/" + std::to_string(pid) + "/mem"),
        budget_bytes_(budget_bytes) {}
  ~ProcMemMemoryReader() override;
  ProcMemMemoryReader(const ProcMemMemoryReader&) = delete;
  ProcMemMemoryReader& operator=(const ProcMemMemoryReader&) = delete;
  Status Read(uint64_t address, std::span<uint8_t> out) override;
  uint64_t BytesRead() const { return bytes_read_; }

 private:
  std::string path_;
  uint64_t budget_bytes_;
  uint64_t bytes_read_ = 0;
  int fd_ = -1;
  Status open_failure_;  // set when the open failed: every read returns it
};

// For unit tests: memory as a set of regions, keyed by start address. Reads spanning a gap fail
// with DataLoss like unmapped memory.
class FakeMemoryReader final : public MemoryReader {
 public:
  void Map(uint64_t address, std::vector<uint8_t> bytes) { regions_[address] = std::move(bytes); }
  template <typename T>
  void Put(uint64_t address, const T& value) {
    std::vector<uint8_t> bytes(sizeof(T));
    std::memcpy(bytes.data(), &value, sizeof(T));
    Map(address, std::move(bytes));
  }
  Status Read(uint64_t address, std::span<uint8_t> out) override;

 private:
  std::map<uint64_t, std::vector<uint8_t>> regions_;
};

}  // namespace ephemera::runtimes

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_MEMORY_READER_H_
