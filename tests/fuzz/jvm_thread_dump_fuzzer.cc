// Fuzzes what a HotSpot JVM answers the jvm reader (debugpod/runtimes/jvm): the attach reply and
// its thread dump, and the perf-data file the reader looks at before signalling. Both come from
// the target, so each parser must take any bytes within its limits. Small limits make the cuts
// (threads, frames, strings, lines, bytes) reachable.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "debugpod/runtimes/jvm/perf_data.h"
#include "debugpod/runtimes/jvm/thread_dump.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace jvm = ephemera::runtimes::jvm;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ephemera::runtimes::RuntimeLimits limits;
  limits.max_stacks = 64;
  limits.max_frames = 8;
  limits.max_string_bytes = 64;
  jvm::ThreadDumpLimits dump_limits;
  dump_limits.max_dump_bytes = 1 << 16;
  dump_limits.max_line_bytes = 512;
  dump_limits.max_deadlocks = 4;
  dump_limits.max_deadlock_members = 8;
  auto body = jvm::SplitAttachReply(text);
  (void)jvm::ParseThreadDump(body.ok() ? *body : text, limits, dump_limits);
  (void)jvm::FindPerfDataString(text, "sun.rt.jvmCapabilities");
  return 0;
}
