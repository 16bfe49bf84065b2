// FileByteSource: a ByteSource over a regular file, read with pread(2).
#ifndef EPHEMERA_DEBUGPOD_STACKS_FILE_BYTE_SOURCE_H_
#define EPHEMERA_DEBUGPOD_STACKS_FILE_BYTE_SOURCE_H_

#include <memory>
#include <string>

#include "base/status.h"
#include "debugpod/stacks/byte_source.h"

namespace ephemera::stacks {

class FileByteSource final : public ByteSource {
 public:
  // Opens `path` read-only. NotFound if it does not exist, PermissionDenied if it may not be read,
  // FailedPrecondition if it is not a regular file; messages carry the errno name. Opened with
  // O_NONBLOCK, so a FIFO the target put at a mapping's path does not block the open (it is then
  // refused as not regular); reads of a regular file are unaffected.
  static StatusOr<std::unique_ptr<FileByteSource>> Open(const std::string& path);
  ~FileByteSource() override;
  FileByteSource(const FileByteSource&) = delete;
  FileByteSource& operator=(const FileByteSource&) = delete;

  uint64_t Size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override;
  // The inode number, to check the file is the one a process mapped.
  uint64_t Inode() const { return inode_; }

 private:
  FileByteSource(int fd, uint64_t size, uint64_t inode) : fd_(fd), size_(size), inode_(inode) {}
  int fd_;
  uint64_t size_;
  uint64_t inode_;
};

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_FILE_BYTE_SOURCE_H_
