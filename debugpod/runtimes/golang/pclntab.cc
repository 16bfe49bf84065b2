#include "debugpod/runtimes/golang/pclntab.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "debugpod/runtimes/hex.h"
#include "debugpod/runtimes/uvarint.h"

namespace ephemera::runtimes::golang {
namespace {

constexpr uint32_t kMagicGo120 = 0xfffffff1;
constexpr size_t kHeaderBytes = 72;
constexpr size_t kFuncBytes = 44;         // the fixed part of _func
constexpr size_t kInlinedCallBytes = 16;  // runtime.inlinedCall
constexpr uint32_t kNoFuncData = ~0u;

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t LoadU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Drops a UTF-8 sequence that a cut left incomplete at the end of `s` (Go names and paths are
// UTF-8; the snapshot document must stay valid UTF-8).
void DropPartialUtf8Tail(std::string& s) {
  size_t lead = s.size();
  size_t continuation = 0;
  while (lead > 0 && continuation < 3 && (static_cast<uint8_t>(s[lead - 1]) & 0xc0) == 0x80) {
    --lead;
    ++continuation;
  }
  if (lead == 0) return;
  auto first = static_cast<uint8_t>(s[lead - 1]);
  size_t length = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  if (length > continuation + 1) s.resize(lead - 1);
}

}  // namespace

StatusOr<Pclntab> Pclntab::Parse(const stacks::ByteSource& section, uint64_t text_start,
                                 const PclntabLimits& limits) {
  uint8_t header[kHeaderBytes];
  if (section.Size() < kHeaderBytes) return DataLossError("pclntab: shorter than its header");
  if (Status s = section.ReadAt(0, header); !s.ok()) return s.WithContext("pclntab header");
  uint32_t magic = LoadU32(header);
  if (magic != kMagicGo120) {
    return InvalidArgumentError("pclntab: magic " + Hex(magic) +
                                " is not the Go 1.20+ format (0xfffffff1)");
  }
  if (header[7] != 8) return FailedPreconditionError("pclntab: pointer size is not 8");
  Pclntab table(section, limits);
  table.quantum_ = header[6];
  if (table.quantum_ == 0) return DataLossError("pclntab: instruction quantum 0");
  uint64_t nfunc = LoadU64(header + 8);
  uint64_t header_text = LoadU64(header + 24);
  table.text_start_ = header_text != 0 ? header_text : text_start;
  table.funcname_offset_ = LoadU64(header + 32);
  table.cu_offset_ = LoadU64(header + 40);
  table.filetab_offset_ = LoadU64(header + 48);
  table.pctab_offset_ = LoadU64(header + 56);
  table.pcln_offset_ = LoadU64(header + 64);
  uint64_t size = section.Size();
  for (uint64_t offset : {table.funcname_offset_, table.cu_offset_, table.filetab_offset_,
                          table.pctab_offset_, table.pcln_offset_}) {
    if (offset < kHeaderBytes || offset >= size) {
      return DataLossError("pclntab: table offset " + Hex(offset) + " outside the section");
    }
  }
  if (nfunc == 0) return DataLossError("pclntab: no functions");
  if (nfunc > limits.max_functions) {
    return ResourceExhaustedError("pclntab: " + std::to_string(nfunc) + " functions, more than " +
                                  std::to_string(limits.max_functions));
  }
  uint64_t functab_bytes = (nfunc + 1) * 8;
  if (functab_bytes > size - table.pcln_offset_) return DataLossError("pclntab: truncated functab");
  std::vector<uint8_t> raw(functab_bytes);
  if (Status s = section.ReadAt(table.pcln_offset_, raw); !s.ok()) {
    return s.WithContext("pclntab functab");
  }
  table.entries_.resize(nfunc + 1);
  for (uint64_t i = 0; i <= nfunc; ++i) {
    table.entries_[i] = {LoadU32(raw.data() + i * 8), LoadU32(raw.data() + i * 8 + 4)};
    if (i > 0 && table.entries_[i].first < table.entries_[i - 1].first) {
      return DataLossError("pclntab: functab not sorted at entry " + std::to_string(i));
    }
  }
  return table;
}

Status Pclntab::ReadAt(uint64_t offset, std::span<uint8_t> out) {
  uint64_t size = section_->Size();
  if (offset > size || size - offset < out.size()) {
    return DataLossError("pclntab: read at " + Hex(offset) + " past the section's end");
  }
  if (out.size() > kWindow) return section_->ReadAt(offset, out);
  if (window_.empty() || offset < window_start_ ||
      offset + out.size() > window_start_ + window_.size()) {
    uint64_t length = std::min<uint64_t>(kWindow, size - offset);
    window_.resize(length);
    if (Status s = section_->ReadAt(offset, window_); !s.ok()) {
      window_.clear();
      return s;
    }
    window_start_ = offset;
  }
  std::memcpy(out.data(), window_.data() + (offset - window_start_), out.size());
  return OkStatus();
}

StatusOr<uint32_t> Pclntab::ReadU32(uint64_t offset) {
  uint8_t bytes[4];
  if (Status s = ReadAt(offset, bytes); !s.ok()) return s;
  return LoadU32(bytes);
}

StatusOr<GoFunc> Pclntab::ReadFunc(size_t index) {
  uint64_t record = pcln_offset_ + entries_[index].second;
  uint8_t raw[kFuncBytes];
  if (Status s = ReadAt(record, raw); !s.ok()) return s.WithContext("pclntab _func");
  GoFunc f;
  uint32_t entry_offset = LoadU32(raw);
  if (entry_offset != entries_[index].first) {
    return DataLossError("pclntab: _func at " + Hex(record) + " disagrees with the functab");
  }
  f.entry = text_start_ + entry_offset;
  f.end = text_start_ + entries_[index + 1].first;
  f.name_offset = static_cast<int32_t>(LoadU32(raw + 4));
  f.pcsp = LoadU32(raw + 16);
  f.pcfile = LoadU32(raw + 20);
  f.pcln = LoadU32(raw + 24);
  f.npcdata = LoadU32(raw + 28);
  f.cu_offset = LoadU32(raw + 32);
  f.start_line = static_cast<int32_t>(LoadU32(raw + 36));
  f.func_id = raw[40];
  f.flag = raw[41];
  f.nfuncdata = raw[43];
  f.record = record;
  return f;
}

StatusOr<GoFunc> Pclntab::FindFunc(uint64_t vaddr) {
  if (vaddr < text_start_ || vaddr - text_start_ >= entries_.back().first) {
    return NotFoundError("no Go function at " + Hex(vaddr));
  }
  uint64_t offset = vaddr - text_start_;
  // The last entry whose start is <= offset.
  auto it = std::upper_bound(entries_.begin(), entries_.end() - 1, offset,
                             [](uint64_t value, const auto& e) { return value < e.first; });
  if (it == entries_.begin()) return NotFoundError("no Go function at " + Hex(vaddr));
  return ReadFunc(static_cast<size_t>(it - entries_.begin() - 1));
}

StatusOr<std::string> Pclntab::CString(uint64_t offset, uint64_t limit, size_t max_bytes) {
  std::string out;
  uint64_t at = offset;
  while (at < limit) {
    uint8_t chunk[64];
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof chunk, limit - at));
    if (Status s = ReadAt(at, std::span(chunk, n)); !s.ok()) return s;
    const void* nul = std::memchr(chunk, 0, n);
    size_t take = nul != nullptr ? static_cast<const uint8_t*>(nul) - chunk : n;
    if (out.size() + take > max_bytes) {
      out.append(reinterpret_cast<const char*>(chunk), max_bytes - out.size());
      DropPartialUtf8Tail(out);
      return out + "…";
    }
    out.append(reinterpret_cast<const char*>(chunk), take);
    if (nul != nullptr) return out;
    at += n;
  }
  return DataLossError("pclntab: unterminated string at " + Hex(offset));
}

StatusOr<std::string> Pclntab::Name(int32_t name_offset, size_t max_bytes) {
  if (name_offset < 0) return DataLossError("pclntab: negative name offset");
  uint64_t at = funcname_offset_ + static_cast<uint64_t>(name_offset);
  uint64_t limit = cu_offset_ > funcname_offset_ ? cu_offset_ : section_->Size();
  if (at >= limit) return DataLossError("pclntab: name offset outside funcnametab");
  return CString(at, limit, max_bytes);
}

StatusOr<GoFunc> Pclntab::FindFuncByName(std::string_view name,
                                         std::chrono::steady_clock::time_point deadline) {
  // Find the name in funcnametab first (a sequential scan of NUL-separated strings), then the
  // function whose name offset is that one: no name is read per function. Both scans are as long
  // as the file says, so both are bounded and check the deadline.
  uint64_t start = funcname_offset_;
  uint64_t limit = cu_offset_ > funcname_offset_ ? cu_offset_ : section_->Size();
  if (limit - start > limits_.max_name_scan_bytes) {
    return ResourceExhaustedError("pclntab: funcnametab of " + std::to_string(limit - start) +
                                  " bytes, more than " +
                                  std::to_string(limits_.max_name_scan_bytes));
  }
  auto past_deadline = [&] { return std::chrono::steady_clock::now() >= deadline; };
  std::vector<int32_t> candidates;
  std::string current;
  uint64_t current_start = start;
  constexpr size_t kChunk = 4096;
  std::vector<uint8_t> chunk(kChunk);
  for (uint64_t at = start; at < limit;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, limit - at));
    if (Status s = ReadAt(at, std::span(chunk.data(), n)); !s.ok()) return s;
    for (size_t i = 0; i < n; ++i) {
      if (chunk[i] != 0) {
        if (current.size() <= name.size()) current.push_back(static_cast<char>(chunk[i]));
        continue;
      }
      if (current == name) candidates.push_back(static_cast<int32_t>(current_start - start));
      current.clear();
      current_start = at + i + 1;
    }
    at += n;
    if (!candidates.empty()) break;
    if (past_deadline()) return DeadlineExceededError("pclntab: deadline scanning function names");
  }
  if (candidates.empty()) return NotFoundError("no function named " + std::string(name));
  for (size_t i = 0; i + 1 < entries_.size(); ++i) {
    if (i % 4096 == 0 && past_deadline()) {
      return DeadlineExceededError("pclntab: deadline scanning functions");
    }
    StatusOr<uint32_t> name_offset = ReadU32(pcln_offset_ + entries_[i].second + 4);
    if (!name_offset.ok()) return name_offset.status();
    if (static_cast<int32_t>(*name_offset) == candidates.front()) return ReadFunc(i);
  }
  return NotFoundError("no function named " + std::string(name));
}

StatusOr<int32_t> Pclntab::PcValue(uint32_t table, uint64_t entry, uint64_t pc) {
  if (table == 0) return NotFoundError("no pcvalue table");
  uint64_t at = pctab_offset_ + table;
  // Go writes pcvalue varints from 32-bit values: at most 5 bytes each.
  constexpr size_t kMaxVarintBytes = 5;
  auto read_uvarint = [&](uint64_t& value) -> Status {
    if (at >= section_->Size()) return DataLossError("pclntab: pcvalue table past the section");
    uint8_t bytes[kMaxVarintBytes];
    auto n = static_cast<size_t>(std::min<uint64_t>(kMaxVarintBytes, section_->Size() - at));
    if (Status s = ReadAt(at, std::span(bytes, n)); !s.ok()) return s;
    size_t pos = 0;
    std::optional<uint64_t> decoded = ReadUvarint(std::span<const uint8_t>(bytes, n), pos);
    if (!decoded) return DataLossError("pclntab: varint truncated or too long in a pcvalue table");
    value = *decoded;
    at += pos;
    return OkStatus();
  };
  int64_t value = -1;
  uint64_t current = entry;
  for (uint32_t step = 0; step < limits_.max_pcvalue_steps; ++step) {
    uint64_t value_delta;
    if (Status s = read_uvarint(value_delta); !s.ok()) return s;
    if (value_delta == 0 && step != 0) return NotFoundError("pc not covered by the table");
    uint64_t pc_delta;
    if (Status s = read_uvarint(pc_delta); !s.ok()) return s;
    int64_t signed_delta = (value_delta & 1) != 0 ? -static_cast<int64_t>((value_delta + 1) >> 1)
                                                  : static_cast<int64_t>(value_delta >> 1);
    value += signed_delta;
    if (value < INT32_MIN || value > INT32_MAX) {
      return DataLossError("pclntab: pcvalue out of range");
    }
    current += pc_delta * quantum_;
    if (pc < current) return static_cast<int32_t>(value);
  }
  return DataLossError("pclntab: pcvalue table longer than " +
                       std::to_string(limits_.max_pcvalue_steps) + " steps");
}

StatusOr<uint32_t> Pclntab::PcData(const GoFunc& f, uint32_t index) {
  if (index >= f.npcdata) return 0u;
  return ReadU32(f.record + kFuncBytes + 4ull * index);
}

StatusOr<uint32_t> Pclntab::FuncData(const GoFunc& f, uint32_t index) {
  if (index >= f.nfuncdata) return kNoFuncData;
  return ReadU32(f.record + kFuncBytes + 4ull * f.npcdata + 4ull * index);
}

StatusOr<std::string> Pclntab::FileName(const GoFunc& f, int32_t file_index, size_t max_bytes) {
  if (file_index < 0 || f.cu_offset == ~0u) return DataLossError("pclntab: no file");
  uint64_t slot =
      cu_offset_ + 4ull * (static_cast<uint64_t>(f.cu_offset) + static_cast<uint64_t>(file_index));
  if (slot + 4 > filetab_offset_ && cu_offset_ < filetab_offset_) {
    return DataLossError("pclntab: file index outside cutab");
  }
  StatusOr<uint32_t> file_offset = ReadU32(slot);
  if (!file_offset.ok()) return file_offset.status();
  if (*file_offset == ~0u) return DataLossError("pclntab: no file");
  uint64_t limit = pctab_offset_ > filetab_offset_ ? pctab_offset_ : section_->Size();
  if (filetab_offset_ + *file_offset >= limit) {
    return DataLossError("pclntab: file outside filetab");
  }
  return CString(filetab_offset_ + *file_offset, limit, max_bytes);
}

StatusOr<std::vector<SourceFrame>> Pclntab::Symbolize(const GoFunc& f, uint64_t pc,
                                                      size_t max_string,
                                                      const VirtualReader* read_virtual,
                                                      uint64_t gofunc) {
  auto position = [&](uint64_t at, SourceFrame& frame) {
    if (StatusOr<int32_t> file = PcValue(f.pcfile, f.entry, at); file.ok()) {
      if (StatusOr<std::string> name = FileName(f, *file, max_string); name.ok()) {
        frame.file = std::move(*name);
      }
    }
    if (StatusOr<int32_t> line = PcValue(f.pcln, f.entry, at); line.ok() && *line > 0) {
      frame.line = *line;
    }
  };
  std::vector<SourceFrame> frames;
  uint64_t at = pc;
  if (read_virtual != nullptr && *read_virtual && gofunc != 0) {
    StatusOr<uint32_t> index_table = PcData(f, kPcdataInlTreeIndex);
    StatusOr<uint32_t> tree = FuncData(f, kFuncdataInlTree);
    if (index_table.ok() && tree.ok() && *index_table != 0 && *tree != kNoFuncData) {
      StatusOr<int32_t> index = PcValue(*index_table, f.entry, at);
      for (uint32_t depth = 0; index.ok() && *index >= 0; ++depth) {
        if (depth >= limits_.max_inline_depth) {
          return DataLossError("pclntab: inline tree deeper than " +
                               std::to_string(limits_.max_inline_depth));
        }
        uint8_t call[kInlinedCallBytes];
        uint64_t where = gofunc + *tree + kInlinedCallBytes * static_cast<uint64_t>(*index);
        if (Status s = (*read_virtual)(where, call); !s.ok()) return s.WithContext("inline tree");
        SourceFrame frame;
        StatusOr<std::string> name = Name(static_cast<int32_t>(LoadU32(call + 4)), max_string);
        if (!name.ok()) return name.status();
        frame.function = std::move(*name);
        position(at, frame);
        frames.push_back(std::move(frame));
        int32_t parent_pc = static_cast<int32_t>(LoadU32(call + 8));
        if (parent_pc < 0) return DataLossError("pclntab: negative inline parent pc");
        at = f.entry + static_cast<uint64_t>(parent_pc);
        index = PcValue(*index_table, f.entry, at);
      }
    }
  }
  SourceFrame outer;
  StatusOr<std::string> name = Name(f.name_offset, max_string);
  if (!name.ok()) return name.status();
  outer.function = std::move(*name);
  position(at, outer);
  frames.push_back(std::move(outer));
  return frames;
}

GoStackWalk WalkGoStack(Pclntab& table, uint64_t pc, uint64_t sp, uint64_t stack_lo,
                        uint64_t stack_hi, uint64_t load_bias, const StackWordReader& read_word,
                        const VirtualReader* read_virtual, uint64_t gofunc,
                        const RuntimeLimits& limits) {
  GoStackWalk walk;
  if (sp < stack_lo || sp >= stack_hi) {
    walk.problem = "saved SP " + Hex(sp) + " outside the goroutine's stack";
    return walk;
  }
  while (true) {
    // One frame may cost several pcvalue tables of up to max_pcvalue_steps each: a hostile
    // table must not hold a goroutine past the deadline the caller checks between goroutines.
    if (std::optional<std::string> stop = limits.StopReason()) {
      walk.problem = *stop;
      return walk;
    }
    if (walk.frames.size() >= limits.max_frames) {
      walk.truncated = true;
      return walk;
    }
    if (pc < load_bias) {
      walk.problem = "pc " + Hex(pc) + " below the binary";
      return walk;
    }
    uint64_t vaddr = pc - load_bias;
    StatusOr<GoFunc> f = table.FindFunc(vaddr);
    if (!f.ok()) {
      walk.problem = "no Go function at pc " + Hex(pc);
      return walk;
    }
    if ((f->flag & kFuncFlagTopFrame) != 0) return walk;  // goexit, mstart, rt0_go: the end
    // A return address points after the call; its line is the call's, one byte back.
    uint64_t lookup = vaddr > f->entry ? vaddr - 1 : vaddr;
    StatusOr<std::vector<SourceFrame>> frames =
        table.Symbolize(*f, lookup, limits.max_string_bytes, read_virtual, gofunc);
    if (!frames.ok()) {
      walk.problem = "pc " + Hex(pc) + ": " + frames.status().message();
      return walk;
    }
    for (SourceFrame& frame : *frames) {
      if (walk.frames.size() >= limits.max_frames) {
        walk.truncated = true;
        return walk;
      }
      walk.frames.push_back(std::move(frame));
    }
    if ((f->flag & kFuncFlagSpWrite) != 0) {
      walk.problem = "stopped at " + walk.frames.back().function + ", which switches stacks";
      return walk;
    }
    StatusOr<int32_t> delta = table.SpDelta(*f, vaddr);
    if (!delta.ok() || *delta < 0) {
      walk.problem = "no SP delta at pc " + Hex(pc);
      return walk;
    }
    uint64_t frame_top = sp + static_cast<uint64_t>(*delta) + 8;
    if (frame_top <= sp || frame_top > stack_hi) {
      walk.problem = "frame of " + walk.frames.back().function + " leaves the stack";
      return walk;
    }
    StatusOr<uint64_t> return_pc = read_word(frame_top - 8);
    if (!return_pc.ok()) {
      walk.problem = "stack unreadable: " + return_pc.status().message();
      return walk;
    }
    if (*return_pc == 0) return walk;
    pc = *return_pc;
    sp = frame_top;
  }
}

}  // namespace ephemera::runtimes::golang
