#include "debugpod/runtimes/memory_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "debugpod/runtimes/hex.h"
#include "debugpod/stacks/errno_name.h"

namespace ephemera::runtimes {
ProcMemMemoryReader::~ProcMemMemoryReader() {
  if (fd_ >= 0) close(fd_);
}

Status ProcMemMemoryReader::Read(uint64_t address, std::span<uint8_t> out) {
  if (out.empty()) return OkStatus();
  if (out.size() > budget_bytes_ - bytes_read_) {
    return ResourceExhaustedError("memory read budget of " + std::to_string(budget_bytes_) +
                                  " bytes spent");
  }
  if (fd_ < 0) {
    if (!open_failure_.ok()) return open_failure_;
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      int error = errno;
      std::string what = stacks::ErrnoName(error) + ": cannot open " + path_;
      open_failure_ = error == ENOENT || error == ESRCH
                          ? NotFoundError(what + ": the process is gone")
                      : error == EACCES || error == EPERM ? PermissionDeniedError(what)
                                                          : UnavailableError(what);
      return open_failure_;
    }
  }
  // The file offset is the address; pread takes an off_t, so addresses past INT64_MAX (never
  // mapped on x86-64 user space) are unmapped here too.
  if (address > static_cast<uint64_t>(INT64_MAX) ||
      out.size() > static_cast<uint64_t>(INT64_MAX) - address) {
    return DataLossError("EIO reading " + std::to_string(out.size()) + " bytes at " + Hex(address));
  }
  bytes_read_ += out.size();
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(address + done));
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    int error = n < 0 ? errno : EIO;
    std::string where = " reading " + std::to_string(out.size()) + " bytes at " + Hex(address);
    switch (error) {
      case EPERM:
      case EACCES:
        return PermissionDeniedError(stacks::ErrnoName(error) + where);
      case ESRCH:
        return NotFoundError(stacks::ErrnoName(error) + ": the process is gone");
      default:  // EIO, EFAULT: not mapped
        return DataLossError(stacks::ErrnoName(error) + where);
    }
  }
  return OkStatus();
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
