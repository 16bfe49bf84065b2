#include "debugpod/runtimes/python/python_stacks.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "debugpod/runtimes/hex.h"
#include "debugpod/runtimes/python/line_table.h"

namespace ephemera::runtimes::python {
namespace {

using runtimes::MemoryReader;
using runtimes::RuntimeLimits;
using runtimes::RuntimeStack;
using runtimes::RuntimeStacks;
using runtimes::SourceFrame;

// x86-64 user space ends below 2^47; the first page is never mapped.
constexpr uint64_t kLowestAddress = 0x1000;
constexpr uint64_t kUserSpaceEnd = uint64_t{1} << 47;
// Linux's PID_MAX_LIMIT.
constexpr int64_t kMaxTid = 1 << 22;
// CPython limits a str to PY_SSIZE_T_MAX characters; anything near that here is corrupt.
constexpr int64_t kMaxStringLength = int64_t{1} << 40;
// More code units than any real code object has; a larger Py_SIZE(code) is corrupt.
constexpr int64_t kMaxCodeUnits = int64_t{1} << 30;

bool IsPlausiblePointer(uint64_t address, uint64_t alignment = 8) {
  return address >= kLowestAddress && address < kUserSpaceEnd && address % alignment == 0;
}

// Bytes read in one go; fields are taken out of them by offset.
class Block {
 public:
  Block() = default;
  explicit Block(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  template <typename T>
  T Get(uint64_t offset) const {
    T value{};
    if (offset <= bytes_.size() && bytes_.size() - offset >= sizeof(T)) {
      std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    }
    return value;
  }

 private:
  std::vector<uint8_t> bytes_;
};

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) {
    code_point = 0xfffd;  // a lone surrogate or no character at all
  }
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  }
}

// What a frame needs from its code object; cached by address, since identical threads run the
// same code objects.
struct CodeInfo {
  std::string function;
  std::string file;
  int first_line = 0;
  std::vector<uint8_t> line_table;
  bool line_table_read = false;
  int64_t code_units = -1;  // 3.11+: Py_SIZE(code); -1 when not known
};

class Walker {
 public:
  Walker(MemoryReader& memory, const PythonLayout& layout, const PythonTarget& target,
         const RuntimeLimits& limits)
      : memory_(memory), layout_(layout), target_(target), limits_(limits) {}

  StatusOr<RuntimeStacks> Run();

 private:
  // Reads that fail for the whole process (budget spent, process gone, no permission) stop
  // every walk; other failures (EFAULT on a torn pointer) end only the walk they belong to.
  static bool IsFatal(const Status& s) {
    return s.code() == StatusCode::kResourceExhausted || s.code() == StatusCode::kNotFound ||
           s.code() == StatusCode::kPermissionDenied;
  }
  StatusOr<Block> ReadBlock(uint64_t address, uint64_t size);
  template <typename T>
  StatusOr<T> ReadValue(uint64_t address) {
    StatusOr<T> value = memory_.ReadValue<T>(address);
    if (!value.ok()) NoteFailure(value.status());
    return value;
  }
  void NoteFailure(const Status& s) {
    if (IsFatal(s) && fatal_.ok()) fatal_ = s;
  }
  bool Stopped() {
    if (!fatal_.ok()) return true;
    if (std::optional<std::string> stop = limits_.StopReason()) {
      fatal_ = DeadlineExceededError(*stop == "deadline" ? "deadline reached" : *stop);
      return true;
    }
    return false;
  }
  void AddProblem(std::string problem);

  StatusOr<uint64_t> FindMainInterpreter();
  std::optional<uint64_t> ReadGilHolder(uint64_t interp);
  void ReadThread(uint64_t tstate, const Block& block, RuntimeStack& stack);
  std::optional<int> ReadTid(const Block& block);
  StatusOr<uint64_t> FirstFrame(const Block& block);
  void ReadFrames(uint64_t frame, RuntimeStack& stack);
  StatusOr<const CodeInfo*> ReadCode(uint64_t code);
  StatusOr<bool> IsCodeType(uint64_t type);
  StatusOr<std::string> ReadUnicode(uint64_t address);
  int LineOf(const CodeInfo& code, uint64_t code_address, const Block& frame,
             const std::string& who);

  MemoryReader& memory_;
  const PythonLayout& layout_;
  const PythonTarget& target_;
  const RuntimeLimits& limits_;
  Status fatal_;
  RuntimeStacks out_;
  size_t problems_dropped_ = 0;
  size_t frames_kept_ = 0;                 // over all stacks, against limits_.max_total_frames
  size_t stacks_cut_by_total_frames_ = 0;  // stacks cut (or left empty) by that limit
  std::map<uint64_t, CodeInfo> code_cache_;
  std::map<uint64_t, bool> code_type_cache_;
  std::map<uint64_t, std::string> string_cache_;
};

StatusOr<Block> Walker::ReadBlock(uint64_t address, uint64_t size) {
  std::vector<uint8_t> bytes(size);
  Status s = memory_.Read(address, bytes);
  if (!s.ok()) {
    NoteFailure(s);
    return s;
  }
  return Block(std::move(bytes));
}

void Walker::AddProblem(std::string problem) {
  if (out_.problems.size() < kMaxProblems) {
    out_.problems.push_back(std::move(problem));
  } else {
    ++problems_dropped_;
  }
}

StatusOr<uint64_t> Walker::FindMainInterpreter() {
  StatusOr<uint64_t> head =
      ReadValue<uint64_t>(target_.runtime_address + layout_.runtime_interpreters_head);
  if (!head.ok()) return head.status();
  std::optional<uint64_t> main;
  size_t others = 0;
  std::set<uint64_t> seen;
  uint64_t interp = *head;
  while (interp != 0 && seen.size() < kMaxInterpreters) {
    if (!IsPlausiblePointer(interp) || !seen.insert(interp).second) {
      return DataLossError("interpreter list corrupt at " + Hex(interp));
    }
    StatusOr<int64_t> id = ReadValue<int64_t>(interp + layout_.interp_id);
    if (!id.ok()) return id.status();
    if (*id == 0 && !main) {
      main = interp;
    } else {
      ++others;
    }
    StatusOr<uint64_t> next = ReadValue<uint64_t>(interp + layout_.interp_next);
    if (!next.ok()) return next.status();
    interp = *next;
  }
  if (!main) return NotFoundError("no main interpreter (id 0) in the interpreter list");
  if (others > 0) {
    AddProblem(std::to_string(others) + " subinterpreter(s) not read: only the main one is");
  }
  return *main;
}

std::optional<uint64_t> Walker::ReadGilHolder(uint64_t interp) {
  uint64_t gil = 0;
  switch (layout_.gil_place) {
    case GilPlace::kRuntime:
      gil = target_.runtime_address + layout_.runtime_gil;
      break;
    case GilPlace::kInterpreter:
      gil = interp + layout_.interp_gil;
      break;
    case GilPlace::kInterpreterPointer: {
      StatusOr<uint64_t> pointer = ReadValue<uint64_t>(interp + layout_.interp_gil);
      if (!pointer.ok() || !IsPlausiblePointer(*pointer)) return std::nullopt;
      gil = *pointer;
      break;
    }
  }
  StatusOr<int32_t> locked = ReadValue<int32_t>(gil + layout_.gil_locked);
  StatusOr<uint64_t> holder = ReadValue<uint64_t>(gil + layout_.gil_last_holder);
  if (!locked.ok() || !holder.ok()) return std::nullopt;
  return *locked != 0 ? *holder : 0;
}

std::optional<int> Walker::ReadTid(const Block& block) {
  auto is_task = [&](int64_t tid) {
    return std::binary_search(target_.tasks.begin(), target_.tasks.end(), tid);
  };
  if (layout_.tstate_native_thread_id) {
    auto tid = block.Get<int64_t>(*layout_.tstate_native_thread_id);
    if (tid <= 0 || tid > kMaxTid) return std::nullopt;
    if (!target_.tasks.empty() && !is_task(tid)) return std::nullopt;
    return static_cast<int>(tid);
  }
  // 3.9/3.10: through glibc's struct pthread, and only believed when it names a live task.
  auto pthread = block.Get<uint64_t>(layout_.tstate_thread_id);
  if (target_.tasks.empty() || !IsPlausiblePointer(pthread)) return std::nullopt;
  StatusOr<int32_t> tid = ReadValue<int32_t>(pthread + kGlibcPthreadTidOffset);
  if (!tid.ok() || !is_task(*tid)) return std::nullopt;
  return *tid;
}

StatusOr<uint64_t> Walker::FirstFrame(const Block& block) {
  auto frame = block.Get<uint64_t>(layout_.tstate_frame);
  if (!layout_.cframe_current_frame || frame == 0) return frame;
  if (!IsPlausiblePointer(frame)) return DataLossError("cframe pointer " + Hex(frame));
  return ReadValue<uint64_t>(frame + *layout_.cframe_current_frame);
}

StatusOr<bool> Walker::IsCodeType(uint64_t type) {
  if (auto it = code_type_cache_.find(type); it != code_type_cache_.end()) return it->second;
  if (!IsPlausiblePointer(type)) return false;
  StatusOr<uint64_t> name = ReadValue<uint64_t>(type + layout_.type_name);
  if (!name.ok()) return name.status();
  if (!IsPlausiblePointer(*name, 1)) return false;
  std::array<uint8_t, 5> text{};
  Status s = memory_.Read(*name, text);
  if (!s.ok()) {
    NoteFailure(s);
    return s;
  }
  const bool is_code = std::memcmp(text.data(), "code", 5) == 0;  // tp_name of PyCode_Type
  if (code_type_cache_.size() < kMaxCachedCodeObjects) code_type_cache_[type] = is_code;
  return is_code;
}

StatusOr<std::string> Walker::ReadUnicode(uint64_t address) {
  if (auto it = string_cache_.find(address); it != string_cache_.end()) return it->second;
  if (!IsPlausiblePointer(address)) return DataLossError("str pointer " + Hex(address));
  StatusOr<Block> header = ReadBlock(address, layout_.ascii_object_size);
  if (!header.ok()) return header.status();
  const auto length = header->Get<int64_t>(layout_.unicode_length);
  const auto state = header->Get<uint32_t>(layout_.unicode_state);
  const uint32_t kind = (state >> 2) & 7;
  const bool compact = ((state >> 5) & 1) != 0;
  const bool ascii = ((state >> 6) & 1) != 0;
  if (!compact) return FailedPreconditionError("str at " + Hex(address) + " is not compact");
  if ((kind != 1 && kind != 2 && kind != 4) || (ascii && kind != 1) || length < 0 ||
      length > kMaxStringLength) {
    return DataLossError("str at " + Hex(address) + " has a corrupt header");
  }
  const uint64_t data = address + (ascii ? layout_.ascii_object_size : layout_.compact_object_size);
  const auto characters = static_cast<size_t>(
      std::min<uint64_t>(static_cast<uint64_t>(length), limits_.max_string_bytes));
  std::vector<uint8_t> raw(characters * kind);
  Status s = memory_.Read(data, raw);
  if (!s.ok()) {
    NoteFailure(s);
    return s;
  }
  std::string text;
  for (size_t i = 0; i < characters; ++i) {
    uint32_t code_point = 0;
    if (kind == 1) {
      code_point = raw[i];
    } else if (kind == 2) {
      uint16_t unit = 0;
      std::memcpy(&unit, raw.data() + 2 * i, 2);
      code_point = unit;
    } else {
      std::memcpy(&code_point, raw.data() + 4 * i, 4);
    }
    std::string encoded;
    AppendUtf8(code_point, encoded);
    if (text.size() + encoded.size() > limits_.max_string_bytes) break;
    text += encoded;
  }
  if (string_cache_.size() < kMaxCachedCodeObjects) string_cache_[address] = text;
  return text;
}

StatusOr<const CodeInfo*> Walker::ReadCode(uint64_t code) {
  if (auto it = code_cache_.find(code); it != code_cache_.end()) return &it->second;
  if (!IsPlausiblePointer(code)) return DataLossError("code pointer " + Hex(code));
  StatusOr<Block> block = ReadBlock(code, layout_.code_read_size);
  if (!block.ok()) return block.status();
  StatusOr<bool> is_code = IsCodeType(block->Get<uint64_t>(layout_.object_type));
  if (!is_code.ok()) return is_code.status();
  if (!*is_code) return FailedPreconditionError("not a code object at " + Hex(code));

  CodeInfo info;
  StatusOr<std::string> function =
      ReadUnicode(block->Get<uint64_t>(layout_.code_qualname.value_or(layout_.code_name)));
  if (!function.ok()) return function.status();
  info.function = std::move(*function);
  StatusOr<std::string> file = ReadUnicode(block->Get<uint64_t>(layout_.code_filename));
  if (!file.ok()) return file.status();
  info.file = std::move(*file);
  info.first_line = block->Get<int32_t>(layout_.code_firstlineno);
  if (layout_.code_code_adaptive) info.code_units = block->Get<int64_t>(layout_.var_object_size);

  // The line table is a bytes object; a missing or oversized one leaves lines unknown.
  const auto table = block->Get<uint64_t>(layout_.code_line_table);
  if (IsPlausiblePointer(table)) {
    StatusOr<int64_t> size = ReadValue<int64_t>(table + layout_.var_object_size);
    if (size.ok() && *size >= 0 && static_cast<uint64_t>(*size) <= kMaxLineTableBytes) {
      info.line_table.resize(static_cast<size_t>(*size));
      Status s = memory_.Read(table + layout_.bytes_data, info.line_table);
      NoteFailure(s);
      info.line_table_read = s.ok();
    } else if (size.ok()) {
      AddProblem(info.function + ": line table of " + std::to_string(*size) +
                 " bytes not read (limit " + std::to_string(kMaxLineTableBytes) + ")");
    }
  }
  if (code_cache_.size() >= kMaxCachedCodeObjects) code_cache_.erase(code_cache_.begin());
  return &code_cache_.emplace(code, std::move(info)).first->second;
}

int Walker::LineOf(const CodeInfo& code, uint64_t code_address, const Block& frame,
                   const std::string& who) {
  if (!code.line_table_read) return 0;
  int64_t offset = 0;
  if (layout_.frame_instruction_is_pointer) {
    const uint64_t start = code_address + layout_.code_code_adaptive.value_or(0);
    const auto pointer = frame.Get<uint64_t>(layout_.frame_instruction);
    if (pointer + 2 == start) {
      offset = -2;  // 3.11/3.12: prev_instr is one unit before the code while a frame starts
    } else if (pointer < start || code.code_units < 0 || code.code_units > kMaxCodeUnits ||
               pointer - start >= static_cast<uint64_t>(code.code_units) * 2) {
      return 0;  // not inside this code object's bytecode: torn or corrupt
    } else {
      offset = static_cast<int64_t>(pointer - start);
    }
  } else {
    offset = int64_t{frame.Get<int32_t>(layout_.frame_instruction)} * layout_.frame_lasti_scale;
  }
  StatusOr<int> line =
      LineForOffset(layout_.line_table_format, code.line_table, code.first_line, offset);
  if (!line.ok()) {
    AddProblem(who + " " + code.function + ": " + line.status().message());
    return 0;
  }
  return std::max(*line, 0);
}

void Walker::ReadFrames(uint64_t frame, RuntimeStack& stack) {
  std::set<uint64_t> seen;
  // Shim frames (3.12+) do not count against max_frames, so the walk has its own bound.
  const size_t max_walked = 2 * limits_.max_frames + 16;
  const std::string who = "thread " + stack.id;
  while (frame != 0) {
    if (Stopped()) {
      stack.frames_truncated = true;
      return;
    }
    if (seen.size() >= max_walked || stack.frames.size() >= limits_.max_frames) {
      stack.frames_truncated = true;
      return;
    }
    if (frames_kept_ >= limits_.max_total_frames) {
      stack.frames_truncated = true;
      ++stacks_cut_by_total_frames_;
      return;
    }
    if (!IsPlausiblePointer(frame) || !seen.insert(frame).second) {
      AddProblem(who + ": frame chain corrupt at " + Hex(frame) + " (a cycle or a bad pointer)");
      stack.frames_truncated = true;
      return;
    }
    StatusOr<Block> block = ReadBlock(frame, layout_.frame_read_size);
    if (!block.ok()) {
      AddProblem(who + ": frame at " + Hex(frame) + " unreadable: " + block.status().message());
      stack.frames_truncated = true;
      return;
    }
    const auto previous = block->Get<uint64_t>(layout_.frame_previous);
    if (layout_.frame_owner && layout_.frame_owner_skipped &&
        block->Get<uint8_t>(*layout_.frame_owner) == *layout_.frame_owner_skipped) {
      frame = previous;
      continue;
    }
    const auto code_address = block->Get<uint64_t>(layout_.frame_code);
    StatusOr<const CodeInfo*> code = ReadCode(code_address);
    if (!code.ok()) {
      AddProblem(who + ": frame at " + Hex(frame) + ": " + code.status().message());
      stack.frames.push_back(SourceFrame{"?", "", 0, {}});
    } else {
      const CodeInfo& info = **code;
      stack.frames.push_back(
          SourceFrame{info.function, info.file, LineOf(info, code_address, *block, who), {}});
    }
    ++frames_kept_;
    frame = previous;
  }
}

void Walker::ReadThread(uint64_t tstate, const Block& block, RuntimeStack& stack) {
  stack.id = std::to_string(block.Get<uint64_t>(layout_.tstate_thread_id));
  stack.tid = ReadTid(block);
  StatusOr<uint64_t> frame = FirstFrame(block);
  if (!frame.ok()) {
    AddProblem("thread " + stack.id + " (PyThreadState " + Hex(tstate) +
               "): frames unreadable: " + frame.status().message());
    stack.frames_truncated = true;
    return;
  }
  ReadFrames(*frame, stack);
}

StatusOr<RuntimeStacks> Walker::Run() {
  out_.language = "python";
  out_.method = "memory";
  StatusOr<uint64_t> interp = FindMainInterpreter();
  if (!interp.ok()) {
    std::string message = "python: reading the interpreter list: " + interp.status().message();
    if (interp.status().code() == StatusCode::kPermissionDenied) {
      message += ": needs the ptrace profile (CAP_SYS_PTRACE) or the target's UID";
    }
    return Status(interp.status().code(), message);
  }
  const std::optional<uint64_t> holder = ReadGilHolder(*interp);
  if (!holder) AddProblem("GIL state unreadable: every thread shown as waiting");

  StatusOr<uint64_t> head = ReadValue<uint64_t>(*interp + layout_.interp_threads_head);
  if (!head.ok()) {
    return Status(head.status().code(),
                  "python: reading the thread list: " + head.status().message());
  }
  const uint64_t tstate_size =
      std::max({layout_.tstate_next, layout_.tstate_interp, layout_.tstate_frame,
                layout_.tstate_thread_id, layout_.tstate_native_thread_id.value_or(0)}) +
      8;
  std::set<uint64_t> seen;
  uint64_t tstate = *head;
  while (tstate != 0 && !Stopped()) {
    if (out_.total >= kMaxThreadsCounted) {
      AddProblem("thread count stopped at " + std::to_string(kMaxThreadsCounted));
      break;
    }
    if (!IsPlausiblePointer(tstate) || !seen.insert(tstate).second) {
      AddProblem("thread list corrupt at " + Hex(tstate) + " after " + std::to_string(out_.total) +
                 " threads (a cycle or a bad pointer)");
      break;
    }
    // Past max_stacks only `next` is read, to count.
    const bool keep = out_.stacks.size() < limits_.max_stacks;
    StatusOr<Block> block = ReadBlock(tstate, keep ? tstate_size : layout_.tstate_next + 8);
    if (!block.ok()) {
      AddProblem("thread list unreadable at " + Hex(tstate) + " after " +
                 std::to_string(out_.total) + " threads: " + block.status().message());
      break;
    }
    if (keep && block->Get<uint64_t>(layout_.tstate_interp) != *interp) {
      AddProblem("thread list changed while read: PyThreadState " + Hex(tstate) +
                 " no longer belongs to the interpreter; stopped after " +
                 std::to_string(out_.total) + " threads");
      break;
    }
    ++out_.total;
    if (keep) {
      RuntimeStack stack;
      stack.state = holder && *holder == tstate ? "running" : "waiting";
      ReadThread(tstate, *block, stack);
      out_.stacks.push_back(std::move(stack));
    }
    tstate = block->Get<uint64_t>(layout_.tstate_next);
  }
  if (out_.total > out_.stacks.size()) {
    AddProblem("only the first " + std::to_string(out_.stacks.size()) + " of " +
               std::to_string(out_.total) + " threads read");
  }
  if (!fatal_.ok()) AddProblem("stopped early: " + fatal_.message());
  if (stacks_cut_by_total_frames_ > 0) {
    // Not subject to kMaxProblems: the one line that explains frameless stacks.
    out_.problems.push_back(std::to_string(stacks_cut_by_total_frames_) +
                            " thread(s) cut or without frames: " +
                            std::to_string(limits_.max_total_frames) + " frames kept in total");
  }
  if (problems_dropped_ > 0) {
    out_.problems.push_back(std::to_string(problems_dropped_) + " more problems not listed");
  }
  return std::move(out_);
}

}  // namespace

StatusOr<RuntimeStacks> ReadPythonStacks(MemoryReader& memory, const PythonLayout& layout,
                                         const PythonTarget& target, const RuntimeLimits& limits) {
  return Walker(memory, layout, target, limits).Run();
}

}  // namespace ephemera::runtimes::python
