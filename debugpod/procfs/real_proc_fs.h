// RealProcFs and RealCgroupFs: ProcFs and CgroupFs over the real filesystem, rooted at a path.
//
// Production uses the defaults ("/proc", "/sys/fs/cgroup"); tests root them at a fixture tree.
// Reads use plain open/read with no buffering beyond the returned string and fail with
// ResourceExhausted past `max_file_bytes`. Errors follow the contract in proc_fs.h.
// Thread-compatible.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_REAL_PROC_FS_H_
#define EPHEMERA_DEBUGPOD_PROCFS_REAL_PROC_FS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "debugpod/procfs/proc_fs.h"

namespace ephemera::procfs {

class RealProcFs final : public ProcFs {
 public:
  explicit RealProcFs(std::string root = "/proc", size_t max_file_bytes = kDefaultMaxFileBytes);

  const std::string& Root() const { return root_; }

  StatusOr<std::string> ReadFile(int pid, std::string_view relative) const override;
  StatusOr<std::string> ReadTaskFile(int pid, int tid, std::string_view relative) const override;
  StatusOr<std::string> ReadLink(int pid, std::string_view relative) const override;
  StatusOr<std::string> ReadNetFile(int pid, std::string_view name) const override;
  StatusOr<std::string> ReadSystemFile(std::string_view relative) const override;
  StatusOr<std::vector<int>> ListPids() const override;
  StatusOr<std::vector<int>> ListTasks(int pid) const override;
  StatusOr<std::vector<int>> ListFds(int pid) const override;

 private:
  std::string PidPath(int pid) const;

  std::string root_;
  size_t max_file_bytes_;
};

class RealCgroupFs final : public CgroupFs {
 public:
  explicit RealCgroupFs(std::string root = "/sys/fs/cgroup",
                        size_t max_file_bytes = kDefaultMaxFileBytes);

  const std::string& Root() const { return root_; }

  StatusOr<std::string> ReadFile(std::string_view relative) const override;

 private:
  std::string root_;
  size_t max_file_bytes_;
};

// Reads at most `max_bytes` of the file at `path` (ResourceExhausted if it holds more). Opens
// without blocking and refuses anything but a regular file (FailedPrecondition "not a regular
// file: <path>"): a FIFO or device where a file is expected would block the tool or never end.
// /proc and cgroup files are regular files.
StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

// ReadSmallFile of `name` in the folder open at `dir_fd` (borrowed), without following a symlink
// in `name`'s last component (ELOOP, as ErrnoToStatus maps it).
StatusOr<std::string> ReadSmallFileAt(int dir_fd, const std::string& name, size_t max_bytes);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_REAL_PROC_FS_H_
