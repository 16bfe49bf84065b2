// MemoryReader: reads another process's memory without stopping it. Language runtimes keep their
// goroutine, frame and thread lists in ordinary memory, so a same-UID reader needs no ptrace stop
// (process_vm_readv is allowed where ptrace attach would be: same credentials, the target dumpable,
// Yama permitting; CAP_SYS_PTRACE otherwise). Reads race with the running target: callers treat
// every value as possibly torn or hostile.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_MEMORY_READER_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_MEMORY_READER_H_

#include <cstdint>
#include <cstring>
#include <map>
#include <span>
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

// process_vm_readv on `pid`, at most `budget_bytes` in total (ResourceExhausted after that).
// Not thread-safe (one per capture).
class ProcessVmMemoryReader final : public MemoryReader {
 public:
  ProcessVmMemoryReader(int pid, uint64_t budget_bytes) : pid_(pid), budget_bytes_(budget_bytes) {}
  Status Read(uint64_t address, std::span<uint8_t> out) override;
  uint64_t BytesRead() const { return bytes_read_; }

 private:
  int pid_;
  uint64_t budget_bytes_;
  uint64_t bytes_read_ = 0;
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
