// Fuzzes UnwindStack (debugpod/stacks/unwinder.h) over a hostile stack copy: the registers and the
// stack bytes are what the target's threads held when they were stopped, so they are the
// target's to choose. The code is a small fake module set with hand-written CFI of the kinds
// compilers emit (frame-pointer prologue, leaf, PLT-style CFA expression, val_expression, signal
// frame) and a range without CFI (frame-pointer fallback). Invariants: the walk ends, within the
// frame limit, and every frame after the first is in code.
//
// Input: 17 registers (8 bytes each, little-endian), 3 bytes of "known" bits (one per register),
// 1 mode byte (bit 0: fold rip into the code ranges and rsp/rbp into the stack copy, so that most
// inputs walk somewhere), then the stack copy.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "debugpod/stacks/call_frame_info.h"
#include "debugpod/stacks/machine_state.h"
#include "debugpod/stacks/unwinder.h"

namespace {

namespace stacks = ephemera::stacks;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kCfiCode = 0x400000;    // [kCfiCode, +0x400): covered by the CFI below
constexpr uint64_t kPlainCode = 0x600000;  // [kPlainCode, +0x1000): code without CFI
constexpr uint64_t kStackBase = 0x7ffc0000;
constexpr int kMaxFrames = 128;

void AppendU32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void AppendU64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PatchLength(Bytes& b, size_t start) {
  const auto length = static_cast<uint32_t>(b.size() - start - 4);
  std::memcpy(b.data() + start, &length, sizeof length);
}

// A .debug_frame CIE: code alignment 1, data alignment -8, return address column 16.
size_t AddCie(Bytes& b, const std::string& augmentation, const Bytes& instructions) {
  const size_t start = b.size();
  AppendU32(b, 0);
  AppendU32(b, 0xffffffffu);
  b.push_back(1);
  b.insert(b.end(), augmentation.begin(), augmentation.end());
  b.push_back(0);
  b.insert(b.end(), {0x01, 0x78, 0x10});
  if (!augmentation.empty()) b.push_back(0);  // "z": no augmentation data
  b.insert(b.end(), instructions.begin(), instructions.end());
  PatchLength(b, start);
  return start;
}

void AddFde(Bytes& b, size_t cie, bool has_z, uint64_t begin, uint64_t range,
            const Bytes& instructions) {
  const size_t start = b.size();
  AppendU32(b, 0);
  AppendU32(b, static_cast<uint32_t>(cie));
  AppendU64(b, begin);
  AppendU64(b, range);
  if (has_z) b.push_back(0);
  b.insert(b.end(), instructions.begin(), instructions.end());
  PatchLength(b, start);
}

stacks::CallFrameInfo BuildCfi() {
  Bytes b;
  const Bytes entry = {0x0c, 0x07, 0x08, 0x90, 0x01};  // CFA = rsp + 8; rip at CFA - 8
  const size_t cie = AddCie(b, "", entry);
  const size_t signal_cie = AddCie(b, "zS", entry);
  // push rbp; mov rbp, rsp; body on rbp.
  AddFde(b, cie, false, kCfiCode, 0x100,
         {0x41, 0x0e, 0x10, 0x86, 0x02, 0x43, 0x0d, 0x06, 0x02, 0x30, 0x0c, 0x07, 0x08});
  // A leaf with a 40-byte frame, saving rbx at CFA - 24.
  AddFde(b, cie, false, kCfiCode + 0x100, 0x100, {0x44, 0x0e, 0x30, 0x83, 0x03});
  // PLT-style: CFA = rsp + 8 + ((rip & 15) >= 11 ? 8 : 0); rbx = CFA - 32 (val_expression);
  // rbp saved at the address rbp + 0 (expression).
  AddFde(b, cie, false, kCfiCode + 0x200, 0x100,
         {0x0f, 0x0b, 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22,  // cfa
          0x16, 0x03, 0x03, 0x08, 0x20, 0x1c,                                            // rbx
          0x10, 0x06, 0x02, 0x76, 0x00});                                                // rbp
  // A signal frame: the interrupted context sits at fixed offsets from the CFA.
  AddFde(b, signal_cie, true, kCfiCode + 0x300, 0x100,
         {0x0c, 0x07, 0x80, 0x02,  // CFA = rsp + 256
          0x90, 0x08,              // rip at CFA - 64
          0x87, 0x07,              // rsp at CFA - 56
          0x86, 0x09,              // rbp at CFA - 72
          0x07, 0x03});            // rbx undefined
  return stacks::CallFrameInfo::Create(stacks::CfiFormat::kDebugFrame, std::move(b), 0);
}

class FakeModules final : public stacks::CodeMap {
 public:
  explicit FakeModules(const stacks::CallFrameInfo& cfi) : cfi_(cfi) {}
  bool IsCode(uint64_t pc) override {
    return (pc >= kCfiCode && pc < kCfiCode + 0x400) ||
           (pc >= kPlainCode && pc < kPlainCode + 0x1000);
  }
  ephemera::StatusOr<stacks::UnwindRow> FindUnwindRow(uint64_t pc) override {
    if (pc < kCfiCode || pc >= kCfiCode + 0x400) return ephemera::NotFoundError("no CFI");
    return cfi_.FindRow(pc);
  }

 private:
  const stacks::CallFrameInfo& cfi_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const stacks::CallFrameInfo* const cfi = new stacks::CallFrameInfo(BuildCfi());
  constexpr size_t kHeader = stacks::kNumRegisters * 8 + 3 + 1;
  if (size < kHeader) return 0;
  stacks::StackSlice stack;
  stack.base = kStackBase;
  stack.bytes.assign(data + kHeader, data + size);
  const uint32_t known = data[136] | (uint32_t{data[137]} << 8) | (uint32_t{data[138]} << 16);
  const bool fold = (data[139] & 1) != 0;

  stacks::RegisterSet registers;
  for (int reg = 0; reg < stacks::kNumRegisters; ++reg) {
    uint64_t value;
    std::memcpy(&value, data + size_t{8} * static_cast<size_t>(reg), sizeof value);
    if (fold && reg == stacks::kRegRip) {
      value =
          ((value & 1) != 0 ? kCfiCode + (value >> 1) % 0x400 : kPlainCode + (value >> 1) % 0x1000);
    } else if (fold && (reg == stacks::kRegRsp || reg == stacks::kRegRbp)) {
      value = kStackBase + (value % (stack.bytes.size() + 16));
    }
    if (((known >> reg) & 1) != 0 || (fold && reg == stacks::kRegRip)) registers.Set(reg, value);
  }

  FakeModules code(*cfi);
  stacks::UnwoundStack walk = stacks::UnwindStack(registers, stack, code, kMaxFrames);
  if (walk.frames.size() > static_cast<size_t>(kMaxFrames) || walk.stop_reason.empty()) {
    std::abort();
  }
  for (size_t i = 1; i < walk.frames.size(); ++i) {
    const stacks::UnwoundFrame& f = walk.frames[i];
    if (!code.IsCode(f.is_return_address ? f.pc - 1 : f.pc)) std::abort();
  }
  return 0;
}
