// FakeCPython: hand-built CPython memory (runtime, interpreter, thread states, frames, code
// objects, str and bytes objects) for one minor version's layout, served by a FakeMemoryReader.
// Fields are written at the offsets the layout names, so the same test reads every version.
#ifndef EPHEMERA_TESTS_DEBUGPOD_RUNTIMES_PYTHON_FAKE_CPYTHON_H_
#define EPHEMERA_TESTS_DEBUGPOD_RUNTIMES_PYTHON_FAKE_CPYTHON_H_

#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "debugpod/runtimes/memory_reader.h"
#include "debugpod/runtimes/python/python_layout.h"

namespace ephemera::runtimes::python {

class FakeCPython {
 public:
  explicit FakeCPython(const PythonLayout& layout);

  const PythonLayout& Layout() const { return layout_; }
  uint64_t Runtime() const { return runtime_; }
  uint64_t Interpreter() const { return interp_; }

  uint64_t Alloc(size_t size);
  template <typename T>
  void Set(uint64_t address, const T& value) {
    auto it = std::prev(regions_.upper_bound(address));
    std::memcpy(it->second.data() + (address - it->first), &value, sizeof(T));
  }

  // A compact str of `kind` 1 (ASCII when every character is < 128), 2 or 4; 0: the narrowest.
  uint64_t Str(const std::u32string& text, int kind = 0);
  // A str whose header claims `length` characters of `kind` but holds only `stored` of them.
  uint64_t StrClaiming(int64_t length, int kind, size_t stored);
  // A code object whose line table puts every instruction of its 8 code units on `line`.
  uint64_t Code(const std::u32string& qualname, const std::string& file, int first_line, int line);
  // A frame of `code`, at byte offset 4 of its bytecode, called by `previous`.
  uint64_t Frame(uint64_t code, uint64_t previous, int owner = 0);
  // A thread state with `top` as its innermost frame, appended to the thread list.
  uint64_t Thread(int tid, uint64_t top);
  void HoldGil(uint64_t tstate);

  // The memory as built so far.
  void MapInto(runtimes::FakeMemoryReader& memory) const;

 private:
  PythonLayout layout_;
  std::map<uint64_t, std::vector<uint8_t>> regions_;
  uint64_t next_ = 0x100000;
  uint64_t runtime_ = 0;
  uint64_t interp_ = 0;
  uint64_t gil_ = 0;
  uint64_t code_type_ = 0;
  uint64_t last_thread_ = 0;
  uint64_t next_thread_id_ = 0x7f0000001000;
};

}  // namespace ephemera::runtimes::python

#endif  // EPHEMERA_TESTS_DEBUGPOD_RUNTIMES_PYTHON_FAKE_CPYTHON_H_
