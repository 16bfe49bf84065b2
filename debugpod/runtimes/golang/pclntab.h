// Pclntab: Go's own function table (.gopclntab, Go 1.20+ format, magic 0xfffffff1), which every
// Go binary keeps, stripped or not, because the runtime needs it for tracebacks and the GC.
// It maps a PC to its function (the functab), the function to its name (funcnametab), and a PC
// inside it to the stack-pointer delta (pcsp), file (pcfile + cutab + filetab) and line (pcln),
// each a pcvalue table (varint-coded value and PC deltas in pctab). Layout facts are from Go's
// runtime/symtab.go and internal/abi/symtab.go; docs/decisions/go-stacks.md.
//
// Parsing reads the header and the functab (bounded by PclntabLimits); everything else is read
// on demand through the borrowed ByteSource, via a small read cache: a Pclntab is therefore not
// thread-safe (one per reader). Every offset the table states is checked against the section;
// a corrupt table gives DataLoss, never a read outside it or an unbounded loop.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_PCLNTAB_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_PCLNTAB_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "debugpod/runtimes/runtime_stacks.h"
#include "debugpod/stacks/byte_source.h"

namespace ephemera::runtimes::golang {

struct PclntabLimits {
  uint64_t max_functions = 1u << 22;  // functab entries kept (8 bytes each)
  // (value, pc) pairs decoded per lookup. Real tables stay far below: the longest in go1.26's own
  // `go` and `compile` binaries has 7871 steps.
  uint32_t max_pcvalue_steps = 1u << 16;
  uint32_t max_inline_depth = 64;              // inlined calls expanded at one PC
  uint64_t max_name_scan_bytes = 64ull << 20;  // funcnametab scanned by FindFuncByName
};

// One _func record.
struct GoFunc {
  uint64_t entry = 0;  // ELF virtual address of the first instruction
  uint64_t end = 0;    // the next function's entry
  int32_t name_offset = 0;
  uint32_t pcsp = 0;
  uint32_t pcfile = 0;
  uint32_t pcln = 0;
  uint32_t npcdata = 0;
  uint32_t cu_offset = 0;
  int32_t start_line = 0;
  uint8_t func_id = 0;
  uint8_t flag = 0;  // abi.FuncFlag
  uint8_t nfuncdata = 0;
  uint64_t record = 0;  // offset of the _func in the section
};

inline constexpr uint8_t kFuncFlagTopFrame = 1;  // abi.FuncFlagTopFrame
inline constexpr uint8_t kFuncFlagSpWrite = 2;   // abi.FuncFlagSPWrite
inline constexpr uint32_t kPcdataInlTreeIndex = 2;
inline constexpr uint32_t kFuncdataInlTree = 3;

// Reads the bytes of the binary at an ELF virtual address (the inline trees live in go:func.*,
// outside .gopclntab).
using VirtualReader = std::function<Status(uint64_t vaddr, std::span<uint8_t> out)>;

class Pclntab {
 public:
  // Parses the header and functab of `section` (borrowed; must outlive the Pclntab). `text_start`
  // is moduledata.text, the base of every entry offset: the header's own copy is used when set
  // (Go ≤ 1.25); Go 1.26 leaves it 0 and the caller passes the .text section's address.
  // InvalidArgument for another magic, FailedPrecondition for another pointer size, DataLoss for
  // a truncated or inconsistent table, ResourceExhausted past max_functions.
  static StatusOr<Pclntab> Parse(const stacks::ByteSource& section, uint64_t text_start,
                                 const PclntabLimits& limits = {});

  uint64_t TextStart() const { return text_start_; }
  size_t FunctionCount() const { return entries_.size() - 1; }

  // The function containing `vaddr`; NotFound outside every function.
  StatusOr<GoFunc> FindFunc(uint64_t vaddr);
  // The function named `name` (linear in the table; for a few runtime functions only).
  // ResourceExhausted when funcnametab is longer than max_name_scan_bytes, DeadlineExceeded past
  // `deadline`.
  StatusOr<GoFunc> FindFuncByName(std::string_view name,
                                  std::chrono::steady_clock::time_point deadline =
                                      std::chrono::steady_clock::time_point::max());
  // The name at funcnametab offset `name_offset`, at most `max_bytes` (longer: cut, "…" added).
  StatusOr<std::string> Name(int32_t name_offset, size_t max_bytes);
  // The value of the pcvalue table at pctab offset `table` for `pc` in the function starting at
  // `entry`. NotFound if the table does not cover `pc` (or `table` is 0, "no table").
  StatusOr<int32_t> PcValue(uint32_t table, uint64_t entry, uint64_t pc);
  // The SP delta at `pc` (bytes the function has pushed: its frame size there).
  StatusOr<int32_t> SpDelta(const GoFunc& f, uint64_t pc) { return PcValue(f.pcsp, f.entry, pc); }
  // The source frames at `pc`, innermost first: the inlined calls (from the inline tree, when
  // `read_virtual` and `gofunc` are given) and then `f` itself. `pc` is the one to look up (the
  // caller backs a return address up by one).
  StatusOr<std::vector<SourceFrame>> Symbolize(const GoFunc& f, uint64_t pc, size_t max_string,
                                               const VirtualReader* read_virtual, uint64_t gofunc);

 private:
  Pclntab(const stacks::ByteSource& section, PclntabLimits limits)
      : section_(&section), limits_(limits) {}
  Status ReadAt(uint64_t offset, std::span<uint8_t> out);
  StatusOr<uint32_t> ReadU32(uint64_t offset);
  StatusOr<GoFunc> ReadFunc(size_t index);
  StatusOr<std::string> FileName(const GoFunc& f, int32_t file_index, size_t max_bytes);
  StatusOr<std::string> CString(uint64_t offset, uint64_t limit, size_t max_bytes);
  // pcdata[index] / funcdata[index] of `f`: 0 / ~0u if absent.
  StatusOr<uint32_t> PcData(const GoFunc& f, uint32_t index);
  StatusOr<uint32_t> FuncData(const GoFunc& f, uint32_t index);

  const stacks::ByteSource* section_;
  PclntabLimits limits_;
  uint8_t quantum_ = 1;
  uint64_t text_start_ = 0;
  uint64_t funcname_offset_ = 0;
  uint64_t cu_offset_ = 0;
  uint64_t filetab_offset_ = 0;
  uint64_t pctab_offset_ = 0;
  uint64_t pcln_offset_ = 0;
  // functab: (entry offset from text, _func offset from pcln_offset_), nfunc + 1 entries (the
  // last one holds the end of the text).
  std::vector<std::pair<uint32_t, uint32_t>> entries_;
  // One cached window of the section.
  static constexpr size_t kWindow = size_t{16} * 1024;
  std::vector<uint8_t> window_;
  uint64_t window_start_ = 0;
};

// The frames of one goroutine stack, walked as Go's unwinder does on amd64: from (pc, sp), each
// function's SP delta at the PC gives its frame; the return address sits just below the frame's
// top; the caller's SP is that top. Stops at a top frame (runtime.goexit, mstart, …), at a
// function that writes SP (no delta to trust), at max_frames, or when a step does not move SP
// strictly up inside [stack_lo, stack_hi) — so a hostile or torn stack cannot loop.
struct GoStackWalk {
  std::vector<SourceFrame> frames;
  bool truncated = false;  // stopped at max_frames
  std::string problem;     // why the walk ended early ("" when it reached the top)
};
using StackWordReader = std::function<StatusOr<uint64_t>(uint64_t address)>;
GoStackWalk WalkGoStack(Pclntab& table, uint64_t pc, uint64_t sp, uint64_t stack_lo,
                        uint64_t stack_hi, uint64_t load_bias, const StackWordReader& read_word,
                        const VirtualReader* read_virtual, uint64_t gofunc,
                        const RuntimeLimits& limits);

}  // namespace ephemera::runtimes::golang

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_PCLNTAB_H_
