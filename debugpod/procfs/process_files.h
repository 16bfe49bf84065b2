// Pure parsers for the per-process text files of /proc: status, stat, cmdline, environ, limits, io.
//
// Each takes the file's contents and returns values; none does I/O. Unknown lines and fields are
// ignored (kernels add fields); a file missing what makes it that file fails with InvalidArgument
// naming the file and what is wrong, never with a partly filled value. Thread safety: pure.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_PROCESS_FILES_H_
#define EPHEMERA_DEBUGPOD_PROCFS_PROCESS_FILES_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::procfs {

// /proc/<pid>/status. Memory figures are absent for kernel threads and zombies.
struct ProcStatus {
  std::string name;        // "Name:" (comm, at most 15 bytes; escaped by the kernel)
  std::string state;       // one letter: R, S, D, T, t, Z, X, I
  std::string state_name;  // "sleeping", from "S (sleeping)"
  int tgid = 0;
  int pid = 0;
  int ppid = 0;
  std::array<uint32_t, 4> uids{};  // real, effective, saved, filesystem
  std::array<uint32_t, 4> gids{};
  int threads = 0;
  std::optional<uint64_t> vm_size_kib;
  std::optional<uint64_t> vm_rss_kib;
  std::optional<uint64_t> vm_hwm_kib;
  uint64_t voluntary_ctxt_switches = 0;
  uint64_t nonvoluntary_ctxt_switches = 0;
  uint64_t cap_inh = 0;
  uint64_t cap_prm = 0;
  uint64_t cap_eff = 0;
  uint64_t cap_bnd = 0;
  uint64_t cap_amb = 0;
  std::vector<int> nspid;  // "NSpid:": this pid in each nested PID namespace, outermost first
};

// Requires the Name and State lines.
StatusOr<ProcStatus> ParseProcStatus(std::string_view text);

// /proc/<pid>/stat (and task/<tid>/stat). Times are in clock ticks (sysconf(_SC_CLK_TCK)).
struct ProcStat {
  int pid = 0;
  std::string comm;  // between the first '(' and the LAST ')': comm may itself hold ") "
  char state = '?';
  int ppid = 0;
  uint64_t flags = 0;  // PF_* flags
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  int64_t num_threads = 0;
  uint64_t start_time_ticks = 0;  // since boot
  int processor = -1;             // CPU last run on

  // PF_KTHREAD: a kernel thread, which has no user space to snapshot.
  bool IsKernelThread() const { return (flags & 0x00200000u) != 0; }
};

// Requires at least the fields up to `processor` (field 39).
StatusOr<ProcStat> ParseProcStat(std::string_view text);

// /proc/<pid>/cmdline: NUL-separated arguments. A trailing NUL does not make an empty argument;
// empty arguments in the middle are kept. A process that rewrote its argv into one space-separated
// string (setproctitle) yields that string as a single argument.
std::vector<std::string> ParseCmdline(std::string_view text);

struct EnvVar {
  std::string name;
  std::string value;
};

// /proc/<pid>/environ: NUL-separated NAME=value. An entry without '=' becomes a name with an empty
// value; empty entries are skipped.
std::vector<EnvVar> ParseEnviron(std::string_view text);

// One row of /proc/<pid>/limits. nullopt means "unlimited".
struct Limit {
  std::string name;  // "Max open files"
  std::optional<uint64_t> soft;
  std::optional<uint64_t> hard;
  std::string units;  // "files", "bytes", ... ; empty for the priority rows
};

// Requires the header line; rows that do not parse fail the whole file.
StatusOr<std::vector<Limit>> ParseLimits(std::string_view text);

// /proc/<pid>/io.
struct ProcIo {
  uint64_t rchar = 0;
  uint64_t wchar = 0;
  uint64_t syscr = 0;
  uint64_t syscw = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  uint64_t cancelled_write_bytes = 0;
};

// Requires rchar and wchar.
StatusOr<ProcIo> ParseIo(std::string_view text);

// Splits `text` into lines (without the '\n'); a final line without '\n' counts, a trailing
// newline does not add an empty line.
std::vector<std::string_view> SplitLines(std::string_view text);

// Splits on runs of spaces and tabs, dropping empty fields.
std::vector<std::string_view> SplitFields(std::string_view text);

// Parses an unsigned decimal (or, with base 16, hex) integer that spans all of `text`.
std::optional<uint64_t> ParseUnsigned(std::string_view text, int base = 10);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_PROCESS_FILES_H_
