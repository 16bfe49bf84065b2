#include "tests/debugpod/runtimes/python/fake_cpython.h"

#include <algorithm>
#include <array>

#include "debugpod/runtimes/python/python_stacks.h"

namespace ephemera::runtimes::python {

FakeCPython::FakeCPython(const PythonLayout& layout) : layout_(layout) {
  runtime_ = Alloc(std::max<uint64_t>(layout_.runtime_interpreters_head, layout_.runtime_gil) + 64);
  interp_ = Alloc(std::max({layout_.interp_next, layout_.interp_id, layout_.interp_threads_head,
                            layout_.interp_gil, layout_.gil_locked, layout_.gil_last_holder}) +
                  64);
  Set<uint64_t>(runtime_ + layout_.runtime_interpreters_head, interp_);
  switch (layout_.gil_place) {
    case GilPlace::kRuntime:
      gil_ = runtime_ + layout_.runtime_gil;
      break;
    case GilPlace::kInterpreter:
      gil_ = interp_ + layout_.interp_gil;
      break;
    case GilPlace::kInterpreterPointer:
      gil_ = Alloc(64);
      Set<uint64_t>(interp_ + layout_.interp_gil, gil_);
      break;
  }
  code_type_ = Alloc(layout_.type_name + 8);
  const uint64_t name = Alloc(8);
  Set(name, std::array<char, 5>{'c', 'o', 'd', 'e', '\0'});
  Set<uint64_t>(code_type_ + layout_.type_name, name);
}

uint64_t FakeCPython::Alloc(size_t size) {
  const uint64_t address = next_;
  regions_[address] = std::vector<uint8_t>(size, 0);
  next_ += (size + 0x100 + 0xff) & ~uint64_t{0xff};  // gaps between regions fault
  return address;
}

uint64_t FakeCPython::Str(const std::u32string& text, int kind) {
  if (kind == 0) {  // the narrowest that holds every character, as CPython picks it
    kind = 1;
    for (char32_t c : text) kind = std::max(kind, c > 0xffff ? 4 : c > 0xff ? 2 : 1);
  }
  bool ascii = kind == 1;
  for (char32_t c : text) ascii = ascii && c < 128;
  const uint64_t header = ascii ? layout_.ascii_object_size : layout_.compact_object_size;
  const uint64_t address = Alloc(header + (text.size() + 1) * kind);
  Set<int64_t>(address + layout_.unicode_length, static_cast<int64_t>(text.size()));
  Set<uint32_t>(address + layout_.unicode_state, (kind << 2) | (1 << 5) | (ascii ? 1 << 6 : 0));
  for (size_t i = 0; i < text.size(); ++i) {
    const uint64_t at = address + header + i * kind;
    if (kind == 1) Set<uint8_t>(at, static_cast<uint8_t>(text[i]));
    if (kind == 2) Set<uint16_t>(at, static_cast<uint16_t>(text[i]));
    if (kind == 4) Set<uint32_t>(at, static_cast<uint32_t>(text[i]));
  }
  return address;
}

uint64_t FakeCPython::StrClaiming(int64_t length, int kind, size_t stored) {
  const uint64_t address = Alloc(layout_.compact_object_size + stored * kind);
  Set<int64_t>(address + layout_.unicode_length, length);
  Set<uint32_t>(address + layout_.unicode_state, (kind << 2) | (1 << 5) | (kind == 1 ? 1 << 6 : 0));
  const uint64_t data =
      address + (kind == 1 ? layout_.ascii_object_size : layout_.compact_object_size);
  for (size_t i = 0; i < stored * kind; ++i) Set<uint8_t>(data + i, 'x');
  return address;
}

uint64_t FakeCPython::Code(const std::u32string& qualname, const std::string& file, int first_line,
                           int line) {
  std::vector<uint8_t> table;
  const int delta = line - first_line;
  switch (layout_.line_table_format) {
    case LineTableFormat::kLnotab:
      table = {0, static_cast<uint8_t>(delta)};
      break;
    case LineTableFormat::kLineTable310:
      table = {16, static_cast<uint8_t>(delta)};
      break;
    case LineTableFormat::kLocationTable: {
      // No-column form (13), 8 units, svarint delta (non-negative here, below 32).
      table = {0xef, static_cast<uint8_t>(delta << 1)};
      break;
    }
  }
  const uint64_t bytes = Alloc(layout_.bytes_data + table.size() + 1);
  Set<int64_t>(bytes + layout_.var_object_size, static_cast<int64_t>(table.size()));
  for (size_t i = 0; i < table.size(); ++i) Set<uint8_t>(bytes + layout_.bytes_data + i, table[i]);

  const uint64_t code = Alloc(layout_.code_code_adaptive.value_or(layout_.code_read_size) + 16);
  Set<uint64_t>(code + layout_.object_type, code_type_);
  Set<int64_t>(code + layout_.var_object_size, 8);  // code units, 3.11+
  std::u32string name = qualname.substr(qualname.rfind(U'.') + 1);
  if (layout_.code_qualname) Set<uint64_t>(code + *layout_.code_qualname, Str(qualname));
  Set<uint64_t>(code + layout_.code_name, Str(name));
  Set<uint64_t>(code + layout_.code_filename, Str(std::u32string(file.begin(), file.end())));
  Set<int32_t>(code + layout_.code_firstlineno, first_line);
  Set<uint64_t>(code + layout_.code_line_table, bytes);
  return code;
}

uint64_t FakeCPython::Frame(uint64_t code, uint64_t previous, int owner) {
  const uint64_t frame = Alloc(layout_.frame_read_size);
  Set<uint64_t>(frame + layout_.frame_previous, previous);
  Set<uint64_t>(frame + layout_.frame_code, code);
  if (layout_.frame_instruction_is_pointer) {
    Set<uint64_t>(frame + layout_.frame_instruction, code + *layout_.code_code_adaptive + 4);
  } else {
    Set<int32_t>(frame + layout_.frame_instruction, 4 / layout_.frame_lasti_scale);
  }
  if (layout_.frame_owner) Set<uint8_t>(frame + *layout_.frame_owner, static_cast<uint8_t>(owner));
  return frame;
}

uint64_t FakeCPython::Thread(int tid, uint64_t top) {
  const uint64_t tstate =
      Alloc(std::max({layout_.tstate_next, layout_.tstate_interp, layout_.tstate_frame,
                      layout_.tstate_thread_id, layout_.tstate_native_thread_id.value_or(0)}) +
            8);
  Set<uint64_t>(tstate + layout_.tstate_interp, interp_);
  if (layout_.cframe_current_frame) {
    const uint64_t cframe = Alloc(*layout_.cframe_current_frame + 8);
    Set<uint64_t>(cframe + *layout_.cframe_current_frame, top);
    Set<uint64_t>(tstate + layout_.tstate_frame, cframe);
  } else {
    Set<uint64_t>(tstate + layout_.tstate_frame, top);
  }
  if (layout_.tstate_native_thread_id) {
    Set<uint64_t>(tstate + layout_.tstate_thread_id, next_thread_id_);
    next_thread_id_ += 0x1000;
    Set<int64_t>(tstate + *layout_.tstate_native_thread_id, tid);
  } else {
    const uint64_t pthread = Alloc(kGlibcPthreadTidOffset + 8);
    Set<int32_t>(pthread + kGlibcPthreadTidOffset, tid);
    Set<uint64_t>(tstate + layout_.tstate_thread_id, pthread);
  }
  if (last_thread_ == 0) {
    Set<uint64_t>(interp_ + layout_.interp_threads_head, tstate);
  } else {
    Set<uint64_t>(last_thread_ + layout_.tstate_next, tstate);
  }
  last_thread_ = tstate;
  return tstate;
}

void FakeCPython::HoldGil(uint64_t tstate) {
  Set<int32_t>(gil_ + layout_.gil_locked, 1);
  Set<uint64_t>(gil_ + layout_.gil_last_holder, tstate);
}

void FakeCPython::MapInto(runtimes::FakeMemoryReader& memory) const {
  for (const auto& [address, bytes] : regions_) memory.Map(address, bytes);
}

}  // namespace ephemera::runtimes::python
