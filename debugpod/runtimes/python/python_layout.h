// Where CPython keeps what a stack reader needs: field offsets inside _PyRuntimeState,
// PyInterpreterState, PyThreadState, the frame (PyFrameObject up to 3.10, _PyInterpreterFrame from
// 3.11), PyCodeObject, PyBytesObject and the compact PyUnicode objects, for the default (GIL,
// release, x86-64) build of each minor version. The values are facts of CPython's headers
// (docs/decisions/python-stacks.md says which header and how they were checked); 3.13's own
// _Py_DebugOffsets, at the start of _PyRuntime, is preferred where present. Pure.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_LAYOUT_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "debugpod/runtimes/python/line_table.h"

namespace ephemera::runtimes::python {

inline constexpr int kFirstSupportedMinor = 9;
inline constexpr int kLastSupportedMinor = 13;

// Where the GIL's state (struct _gil_runtime_state: `locked`, `last_holder`) lives.
enum class GilPlace {
  kRuntime,             // 3.9–3.11: inside _PyRuntime (ceval.gil), at runtime_gil
  kInterpreterPointer,  // 3.12: PyInterpreterState.ceval.gil, a pointer, at interp_gil
  kInterpreter,         // 3.13: inside PyInterpreterState (_gil), at interp_gil
};

struct PythonLayout {
  int minor = 0;  // 3.<minor>

  // _PyRuntimeState
  uint64_t runtime_interpreters_head = 0;  // PyInterpreterState*; the list links through `next`
  GilPlace gil_place = GilPlace::kRuntime;
  uint64_t runtime_gil = 0;      // kRuntime: offset of the GIL state in _PyRuntimeState
  uint64_t interp_gil = 0;       // kInterpreter*: offset of the GIL state (or pointer) in interp
  uint64_t gil_locked = 0;       // int, inside the GIL state
  uint64_t gil_last_holder = 0;  // PyThreadState*, inside the GIL state

  // PyInterpreterState
  uint64_t interp_next = 0;
  uint64_t interp_id = 0;  // int64_t; the main interpreter's is 0
  uint64_t interp_threads_head = 0;

  // PyThreadState
  uint64_t tstate_next = 0;
  uint64_t tstate_interp = 0;
  // 3.9/3.10: `frame` (PyFrameObject*); 3.11/3.12: `cframe` (_PyCFrame*), whose current_frame is
  // at cframe_current_frame; 3.13: `current_frame` (_PyInterpreterFrame*).
  uint64_t tstate_frame = 0;
  std::optional<uint64_t> cframe_current_frame;
  uint64_t tstate_thread_id = 0;                    // unsigned long: pthread_self()
  std::optional<uint64_t> tstate_native_thread_id;  // unsigned long, 3.11+

  // The frame: PyFrameObject (3.9/3.10) or _PyInterpreterFrame (3.11+).
  uint64_t frame_previous = 0;  // f_back / previous
  uint64_t frame_code = 0;      // f_code / f_executable (3.13: any object; checked to be code)
  // 3.9/3.10: `int f_lasti`, an offset into the bytecode in units of frame_lasti_scale bytes
  // (3.9 counts bytes, 3.10 code units). 3.11+: a pointer into the code object's
  // co_code_adaptive (3.11/3.12 prev_instr: the last instruction started; 3.13 instr_ptr: the
  // one executing).
  uint64_t frame_instruction = 0;
  bool frame_instruction_is_pointer = false;
  int frame_lasti_scale = 1;
  std::optional<uint64_t> frame_owner;     // char; 3.12+ skip FRAME_OWNED_BY_CSTACK (3) shims
  std::optional<int> frame_owner_skipped;  // the owner value of frames that are not Python's
  uint64_t frame_read_size = 0;            // bytes covering every field above

  // PyCodeObject
  uint64_t code_filename = 0;
  uint64_t code_name = 0;
  std::optional<uint64_t> code_qualname;       // 3.11+
  uint64_t code_firstlineno = 0;               // int
  uint64_t code_line_table = 0;                // co_lnotab (3.9) / co_linetable: a bytes object
  std::optional<uint64_t> code_code_adaptive;  // 3.11+: where the bytecode starts, inline
  uint64_t code_read_size = 0;
  LineTableFormat line_table_format = LineTableFormat::kLocationTable;

  // Objects: PyObject.ob_type, PyVarObject.ob_size, PyTypeObject.tp_name, PyBytesObject.ob_sval.
  uint64_t object_type = 8;
  uint64_t var_object_size = 16;
  uint64_t type_name = 24;
  uint64_t bytes_data = 32;
  // PyASCIIObject: length, state (bit field: interned 0-1, kind 2-4, compact 5, ascii 6);
  // compact ASCII data follows the PyASCIIObject, other compact kinds follow the
  // PyCompactUnicodeObject.
  uint64_t unicode_length = 16;
  uint64_t unicode_state = 32;
  uint64_t ascii_object_size = 48;
  uint64_t compact_object_size = 72;
};

// The built-in layout of 3.<minor> (9–13). FailedPrecondition for any other minor, with the
// message "python 3.<minor>: layout not known; supported 3.9–3.13".
StatusOr<PythonLayout> LayoutForMinor(int minor);

// The size of the part of 3.13's _Py_DebugOffsets that ParseDebugOffsets reads.
inline constexpr size_t kDebugOffsetsBytes = 584;

struct DebugOffsetsHeader {
  uint64_t version_hex = 0;  // PY_VERSION_HEX of the running interpreter
  bool free_threaded = false;
};

// Whether `bytes` (the start of _PyRuntime) begins with the cookie "xdebugpy", and if so its
// version and free-threading flag. nullopt without the cookie (3.12 and older).
std::optional<DebugOffsetsHeader> ReadDebugOffsetsHeader(std::span<const uint8_t> bytes);

// The layout that 3.13's _Py_DebugOffsets states, completed by the built-in 3.13 table for what
// it does not carry (the unicode state bits, the frame owner values). FailedPrecondition for
// another version or a free-threaded build (the struct's own layout, and the object headers,
// differ there); DataLoss when `bytes` is short, lacks the cookie, or states offsets that are
// not plausible (a field beyond its struct's stated size, a struct larger than 1 MiB).
StatusOr<PythonLayout> ParseDebugOffsets(std::span<const uint8_t> bytes);

// "3.11.2", "3.13.0rc1" from a PY_VERSION_HEX value.
std::string VersionFromHex(uint64_t version_hex);

}  // namespace ephemera::runtimes::python

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_LAYOUT_H_
