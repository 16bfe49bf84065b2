#include "debugpod/runtimes/memory_reader.h"

#include <sys/uio.h>

#include <cerrno>
#include <sstream>
#include <string>

#include "debugpod/stacks/errno_name.h"

namespace ephemera::runtimes {
namespace {

std::string Hex(uint64_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << value;
  return out.str();
}

}  // namespace

Status ProcessVmMemoryReader::Read(uint64_t address, std::span<uint8_t> out) {
  if (out.empty()) return OkStatus();
  if (out.size() > budget_bytes_ - bytes_read_) {
    return ResourceExhaustedError("memory read budget of " + std::to_string(budget_bytes_) +
                                  " bytes spent");
  }
  bytes_read_ += out.size();
  iovec local{out.data(), out.size()};
  iovec remote{reinterpret_cast<void*>(address), out.size()};  // NOLINT(performance-no-int-to-ptr)
  ssize_t n = process_vm_readv(pid_, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(out.size())) return OkStatus();
  int error = n < 0 ? errno : EFAULT;
  std::string where = " reading " + std::to_string(out.size()) + " bytes at " + Hex(address);
  switch (error) {
    case EPERM:
      return PermissionDeniedError(stacks::ErrnoName(error) + where);
    case ESRCH:
      return NotFoundError(stacks::ErrnoName(error) + ": the process is gone");
    default:
      return DataLossError(stacks::ErrnoName(error) + where);
  }
}

Status FakeMemoryReader::Read(uint64_t address, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = address + done;
    auto it = regions_.upper_bound(at);
    if (it == regions_.begin()) return DataLossError("EFAULT reading at " + Hex(at));
    --it;
    uint64_t offset = at - it->first;
    if (offset >= it->second.size()) return DataLossError("EFAULT reading at " + Hex(at));
    size_t n = std::min<size_t>(it->second.size() - offset, out.size() - done);
    std::memcpy(out.data() + done, it->second.data() + offset, n);
    done += n;
  }
  return OkStatus();
}

}  // namespace ephemera::runtimes
