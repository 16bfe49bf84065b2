#include "debugpod/runtimes/python/python_layout.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <string_view>

namespace ephemera::runtimes::python {
namespace {

// FRAME_OWNED_BY_CSTACK (Include/internal/pycore_frame.h, 3.12+): the entry frame a C call
// pushes, not a Python function.
constexpr int kFrameOwnedByCStack = 3;

uint64_t EndOf(std::initializer_list<uint64_t> offsets) {
  return std::max(offsets) + 8;  // every field read is at most 8 bytes
}

void FinishSizes(PythonLayout& l) {
  std::initializer_list<uint64_t> frame = {l.frame_previous, l.frame_code, l.frame_instruction,
                                           l.frame_owner.value_or(0)};
  l.frame_read_size = EndOf(frame);
  l.code_read_size = EndOf({l.object_type, l.var_object_size, l.code_filename, l.code_name,
                            l.code_qualname.value_or(0), l.code_firstlineno, l.code_line_table});
}

// The tables: offsetof() of each field, read from the headers named in
// docs/decisions/python-stacks.md for an x86-64 release build with the GIL.
PythonLayout Layout39Or310(int minor) {
  PythonLayout l;
  l.minor = minor;
  l.runtime_interpreters_head = 32;
  l.gil_place = GilPlace::kRuntime;
  l.runtime_gil = 352;
  l.gil_locked = 16;
  l.gil_last_holder = 8;
  l.interp_next = 0;
  l.interp_id = 24;
  l.interp_threads_head = 8;  // tstate_head
  l.tstate_next = 8;
  l.tstate_interp = 16;
  l.tstate_frame = 24;  // frame
  l.tstate_thread_id = 176;
  l.frame_previous = 24;                        // f_back
  l.frame_code = 32;                            // f_code
  l.frame_instruction = minor == 9 ? 104 : 96;  // f_lasti
  l.frame_lasti_scale = minor == 9 ? 1 : 2;
  l.code_filename = 104;
  l.code_name = 112;
  l.code_firstlineno = 40;
  l.code_line_table = 120;  // co_lnotab / co_linetable
  l.line_table_format = minor == 9 ? LineTableFormat::kLnotab : LineTableFormat::kLineTable310;
  l.ascii_object_size = 48;
  l.compact_object_size = 72;
  return l;
}

PythonLayout Layout311() {
  PythonLayout l;
  l.minor = 11;
  l.runtime_interpreters_head = 40;
  l.gil_place = GilPlace::kRuntime;
  l.runtime_gil = 360;
  l.gil_locked = 16;
  l.gil_last_holder = 8;
  l.interp_next = 0;
  l.interp_id = 48;
  l.interp_threads_head = 16;
  l.tstate_next = 8;
  l.tstate_interp = 16;
  l.tstate_frame = 56;  // cframe
  l.cframe_current_frame = 8;
  l.tstate_thread_id = 152;
  l.tstate_native_thread_id = 160;
  l.frame_previous = 48;
  l.frame_code = 32;
  l.frame_instruction = 56;  // prev_instr
  l.frame_instruction_is_pointer = true;
  l.frame_owner = 69;
  l.code_filename = 112;
  l.code_name = 120;
  l.code_qualname = 128;
  l.code_firstlineno = 72;
  l.code_line_table = 136;
  l.code_code_adaptive = 184;
  l.line_table_format = LineTableFormat::kLocationTable;
  l.ascii_object_size = 48;
  l.compact_object_size = 72;
  return l;
}

PythonLayout Layout312() {
  PythonLayout l;
  l.minor = 12;
  l.runtime_interpreters_head = 40;
  l.gil_place = GilPlace::kInterpreterPointer;
  l.interp_gil = 384;  // ceval.gil
  l.gil_locked = 16;
  l.gil_last_holder = 8;
  l.interp_next = 0;
  l.interp_id = 8;
  l.interp_threads_head = 72;
  l.tstate_next = 8;
  l.tstate_interp = 16;
  l.tstate_frame = 56;  // cframe
  l.cframe_current_frame = 0;
  l.tstate_thread_id = 136;
  l.tstate_native_thread_id = 144;
  l.frame_previous = 8;
  l.frame_code = 0;
  l.frame_instruction = 56;  // prev_instr
  l.frame_instruction_is_pointer = true;
  l.frame_owner = 70;
  l.frame_owner_skipped = kFrameOwnedByCStack;
  l.code_filename = 112;
  l.code_name = 120;
  l.code_qualname = 128;
  l.code_firstlineno = 68;
  l.code_line_table = 136;
  l.code_code_adaptive = 192;
  l.line_table_format = LineTableFormat::kLocationTable;
  l.ascii_object_size = 40;
  l.compact_object_size = 56;
  return l;
}

PythonLayout Layout313() {
  PythonLayout l;
  l.minor = 13;
  l.runtime_interpreters_head = 632;
  l.gil_place = GilPlace::kInterpreter;
  l.interp_gil = 0;
  l.gil_locked = 7768;       // _gil.locked
  l.gil_last_holder = 7760;  // _gil.last_holder
  l.interp_next = 7264;
  l.interp_id = 7272;
  l.interp_threads_head = 7344;
  l.tstate_next = 8;
  l.tstate_interp = 16;
  l.tstate_frame = 72;  // current_frame
  l.tstate_thread_id = 152;
  l.tstate_native_thread_id = 160;
  l.frame_previous = 8;
  l.frame_code = 0;          // f_executable
  l.frame_instruction = 56;  // instr_ptr
  l.frame_instruction_is_pointer = true;
  l.frame_owner = 70;
  l.frame_owner_skipped = kFrameOwnedByCStack;
  l.code_filename = 112;
  l.code_name = 120;
  l.code_qualname = 128;
  l.code_firstlineno = 68;
  l.code_line_table = 136;
  l.code_code_adaptive = 200;
  l.line_table_format = LineTableFormat::kLocationTable;
  l.ascii_object_size = 40;
  l.compact_object_size = 56;
  return l;
}

uint64_t U64At(std::span<const uint8_t> bytes, size_t offset) {
  uint64_t value = 0;
  std::memcpy(&value, bytes.data() + offset, sizeof(value));
  return value;
}

// Offsets of the fields of 3.13's _Py_DebugOffsets (Include/internal/pycore_runtime.h): eight
// bytes each, in declaration order, after the 8-byte cookie.
namespace debug {
constexpr size_t kVersion = 8;
constexpr size_t kFreeThreaded = 16;
constexpr size_t kRuntimeSize = 24;
constexpr size_t kRuntimeInterpretersHead = 40;
constexpr size_t kInterpSize = 48;
constexpr size_t kInterpId = 56;
constexpr size_t kInterpNext = 64;
constexpr size_t kInterpThreadsHead = 72;
constexpr size_t kInterpGilLocked = 136;
constexpr size_t kInterpGilHolder = 144;
constexpr size_t kThreadSize = 152;
constexpr size_t kThreadNext = 168;
constexpr size_t kThreadInterp = 176;
constexpr size_t kThreadCurrentFrame = 184;
constexpr size_t kThreadId = 192;
constexpr size_t kThreadNativeId = 200;
constexpr size_t kFrameSize = 224;
constexpr size_t kFramePrevious = 232;
constexpr size_t kFrameExecutable = 240;
constexpr size_t kFrameInstrPtr = 248;
constexpr size_t kFrameOwner = 264;
constexpr size_t kCodeSize = 272;
constexpr size_t kCodeFilename = 280;
constexpr size_t kCodeName = 288;
constexpr size_t kCodeQualname = 296;
constexpr size_t kCodeLinetable = 304;
constexpr size_t kCodeFirstLineNo = 312;
constexpr size_t kCodeCodeAdaptive = 344;
constexpr size_t kObjectSize = 352;
constexpr size_t kObjectType = 360;
constexpr size_t kTypeSize = 368;
constexpr size_t kTypeName = 376;
constexpr size_t kBytesSize = 512;
constexpr size_t kBytesObSize = 520;
constexpr size_t kBytesData = 528;
constexpr size_t kUnicodeSize = 536;
constexpr size_t kUnicodeState = 544;
constexpr size_t kUnicodeLength = 552;
constexpr size_t kUnicodeAsciiSize = 560;
}  // namespace debug

constexpr uint64_t kMaxStructBytes = 1 << 20;

}  // namespace

StatusOr<PythonLayout> LayoutForMinor(int minor) {
  PythonLayout layout;
  switch (minor) {
    case 9:
    case 10:
      layout = Layout39Or310(minor);
      break;
    case 11:
      layout = Layout311();
      break;
    case 12:
      layout = Layout312();
      break;
    case 13:
      layout = Layout313();
      break;
    default:
      return FailedPreconditionError("python 3." + std::to_string(minor) +
                                     ": layout not known; supported 3.9–3.13");
  }
  FinishSizes(layout);
  return layout;
}

std::optional<DebugOffsetsHeader> ReadDebugOffsetsHeader(std::span<const uint8_t> bytes) {
  constexpr std::string_view kCookie = "xdebugpy";
  if (bytes.size() < 24 || std::memcmp(bytes.data(), kCookie.data(), kCookie.size()) != 0) {
    return std::nullopt;
  }
  return DebugOffsetsHeader{U64At(bytes, debug::kVersion), U64At(bytes, debug::kFreeThreaded) != 0};
}

StatusOr<PythonLayout> ParseDebugOffsets(std::span<const uint8_t> bytes) {
  std::optional<DebugOffsetsHeader> header = ReadDebugOffsetsHeader(bytes);
  if (!header || bytes.size() < kDebugOffsetsBytes) {
    return DataLossError("python: _Py_DebugOffsets missing or cut short");
  }
  const int minor = static_cast<int>((header->version_hex >> 16) & 0xff);
  if ((header->version_hex >> 24) != 3 || minor != 13) {
    return FailedPreconditionError("python " + VersionFromHex(header->version_hex) +
                                   ": layout not known; supported 3.9–3.13");
  }
  if (header->free_threaded) {
    return FailedPreconditionError("python " + VersionFromHex(header->version_hex) +
                                   " free-threaded build: not supported");
  }
  StatusOr<PythonLayout> base = LayoutForMinor(13);
  if (!base.ok()) return base.status();
  PythonLayout l = *base;
  auto at = [&](size_t offset) { return U64At(bytes, offset); };

  // Each struct's fields must lie inside its stated size, and no size may be absurd: a torn or
  // hostile table must not send reads to arbitrary addresses.
  struct Group {
    size_t size_field;
    std::initializer_list<size_t> fields;
  };
  for (const Group& group :
       {Group{debug::kRuntimeSize, {debug::kRuntimeInterpretersHead}},
        Group{debug::kInterpSize,
              {debug::kInterpId, debug::kInterpNext, debug::kInterpThreadsHead,
               debug::kInterpGilLocked, debug::kInterpGilHolder}},
        Group{debug::kThreadSize,
              {debug::kThreadNext, debug::kThreadInterp, debug::kThreadCurrentFrame,
               debug::kThreadId, debug::kThreadNativeId}},
        Group{debug::kFrameSize,
              {debug::kFramePrevious, debug::kFrameExecutable, debug::kFrameInstrPtr,
               debug::kFrameOwner}},
        Group{debug::kCodeSize,
              {debug::kCodeFilename, debug::kCodeName, debug::kCodeQualname, debug::kCodeLinetable,
               debug::kCodeFirstLineNo, debug::kCodeCodeAdaptive}},
        Group{debug::kObjectSize, {debug::kObjectType}},
        Group{debug::kTypeSize, {debug::kTypeName}},
        Group{debug::kBytesSize, {debug::kBytesObSize, debug::kBytesData}},
        Group{debug::kUnicodeSize,
              {debug::kUnicodeState, debug::kUnicodeLength, debug::kUnicodeAsciiSize}}}) {
    const uint64_t size = at(group.size_field);
    if (size == 0 || size > kMaxStructBytes) {
      return DataLossError("python: _Py_DebugOffsets states an implausible struct size");
    }
    for (size_t field : group.fields) {
      // The data offsets (bytes, co_code_adaptive, the ASCII object's size) may equal the size.
      if (at(field) > size) {
        return DataLossError("python: _Py_DebugOffsets states a field beyond its struct");
      }
    }
  }

  l.runtime_interpreters_head = at(debug::kRuntimeInterpretersHead);
  l.gil_place = GilPlace::kInterpreter;
  l.interp_gil = 0;
  l.gil_locked = at(debug::kInterpGilLocked);
  l.gil_last_holder = at(debug::kInterpGilHolder);
  l.interp_id = at(debug::kInterpId);
  l.interp_next = at(debug::kInterpNext);
  l.interp_threads_head = at(debug::kInterpThreadsHead);
  l.tstate_next = at(debug::kThreadNext);
  l.tstate_interp = at(debug::kThreadInterp);
  l.tstate_frame = at(debug::kThreadCurrentFrame);
  l.cframe_current_frame.reset();
  l.tstate_thread_id = at(debug::kThreadId);
  l.tstate_native_thread_id = at(debug::kThreadNativeId);
  l.frame_previous = at(debug::kFramePrevious);
  l.frame_code = at(debug::kFrameExecutable);
  l.frame_instruction = at(debug::kFrameInstrPtr);
  l.frame_owner = at(debug::kFrameOwner);
  l.code_filename = at(debug::kCodeFilename);
  l.code_name = at(debug::kCodeName);
  l.code_qualname = at(debug::kCodeQualname);
  l.code_line_table = at(debug::kCodeLinetable);
  l.code_firstlineno = at(debug::kCodeFirstLineNo);
  l.code_code_adaptive = at(debug::kCodeCodeAdaptive);
  l.object_type = at(debug::kObjectType);
  l.type_name = at(debug::kTypeName);
  l.var_object_size = at(debug::kBytesObSize);
  l.bytes_data = at(debug::kBytesData);
  l.unicode_state = at(debug::kUnicodeState);
  l.unicode_length = at(debug::kUnicodeLength);
  l.ascii_object_size = at(debug::kUnicodeAsciiSize);
  // PyCompactUnicodeObject adds utf8_length and utf8 to the PyASCIIObject (3.12+).
  l.compact_object_size = l.ascii_object_size + 16;
  FinishSizes(l);
  return l;
}

std::string VersionFromHex(uint64_t version_hex) {
  std::string version = std::to_string((version_hex >> 24) & 0xff) + "." +
                        std::to_string((version_hex >> 16) & 0xff) + "." +
                        std::to_string((version_hex >> 8) & 0xff);
  const uint64_t level = (version_hex >> 4) & 0xf;
  const std::string serial = std::to_string(version_hex & 0xf);
  if (level == 0xa) return version + "a" + serial;
  if (level == 0xb) return version + "b" + serial;
  if (level == 0xc) return version + "rc" + serial;
  return version;
}

}  // namespace ephemera::runtimes::python
