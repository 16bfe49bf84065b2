// Fuzzes every /proc and cgroup parser of the snapshot tool (debugpod/procfs): the files are
// written by the kernel, but their text includes what the target chose (comm, cmdline, environ,
// paths), so each parser must take any bytes. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "debugpod/procfs/cgroup.h"
#include "debugpod/procfs/maps.h"
#include "debugpod/procfs/net.h"
#include "debugpod/procfs/process_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace procfs = ephemera::procfs;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (selector % 14) {
    case 0:
      (void)procfs::ParseProcStatus(text);
      break;
    case 1:
      (void)procfs::ParseProcStat(text);
      break;
    case 2:
      (void)procfs::ParseCmdline(text);
      break;
    case 3:
      (void)procfs::ParseEnviron(text);
      break;
    case 4:
      (void)procfs::ParseLimits(text);
      break;
    case 5:
      (void)procfs::ParseIo(text);
      break;
    case 6:
      (void)procfs::ParseMapsSummary(text, selector % 8);
      break;
    case 7:
      (void)procfs::ParseNetSockets(text, (selector & 0x80) != 0 ? "tcp6" : "tcp");
      break;
    case 8:
      (void)procfs::ParseNetSockets(text, (selector & 0x80) != 0 ? "udp6" : "udp");
      break;
    case 9:
      (void)procfs::ParseNetSockets(text, "unix");
      break;
    case 10:
      (void)procfs::ParseCgroup(text);
      break;
    case 11:
      (void)procfs::NormalizeCgroupPath(text);
      (void)procfs::ParseSocketInode(text);
      break;
    case 12:
      (void)procfs::FindFlatKey(text, "usage_usec");
      (void)procfs::FindFlatKey(text, "total_rss");
      break;
    default:
      for (const std::string_view line : procfs::SplitLines(text)) {
        for (const std::string_view field : procfs::SplitFields(line)) {
          (void)procfs::ParseUnsigned(field);
          (void)procfs::ParseUnsigned(field, 16);
        }
      }
      break;
  }
  return 0;
}
