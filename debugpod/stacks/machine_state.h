// The machine state of a stopped thread as the unwinder sees it: x86-64 registers by DWARF number
// and a bounded copy of the thread's stack. Pure values; the copy is the only target memory the
// unwinder reads, and nothing derived from it except return addresses ever leaves this library.
#ifndef EPHEMERA_DEBUGPOD_STACKS_MACHINE_STATE_H_
#define EPHEMERA_DEBUGPOD_STACKS_MACHINE_STATE_H_

#include <array>
#include <bitset>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

namespace ephemera::stacks {

// DWARF register numbers for x86-64 (System V AMD64 psABI, "DWARF Register Number Mapping").
inline constexpr int kRegRax = 0;
inline constexpr int kRegRdx = 1;
inline constexpr int kRegRcx = 2;
inline constexpr int kRegRbx = 3;
inline constexpr int kRegRsi = 4;
inline constexpr int kRegRdi = 5;
inline constexpr int kRegRbp = 6;
inline constexpr int kRegRsp = 7;
inline constexpr int kRegR8 = 8;
inline constexpr int kRegR15 = 15;
inline constexpr int kRegRip = 16;  // the return-address column
inline constexpr int kNumRegisters = 17;

// General-purpose registers; a register is "known" once a value was captured or recovered for it.
struct RegisterSet {
  std::array<uint64_t, kNumRegisters> value{};
  std::bitset<kNumRegisters> known;

  void Set(int reg, uint64_t v) {
    value[static_cast<size_t>(reg)] = v;
    known.set(static_cast<size_t>(reg));
  }
  void Forget(int reg) { known.reset(static_cast<size_t>(reg)); }
  std::optional<uint64_t> Get(int reg) const {
    if (reg < 0 || reg >= kNumRegisters || !known.test(static_cast<size_t>(reg))) {
      return std::nullopt;
    }
    return value[static_cast<size_t>(reg)];
  }
};

// Bytes copied from [base, base + bytes.size()) of the target's address space.
struct StackSlice {
  uint64_t base = 0;
  std::vector<uint8_t> bytes;

  // The 8 bytes at `address`, or nullopt when any of them lies outside the copy.
  std::optional<uint64_t> Read64(uint64_t address) const {
    if (address < base || address - base > bytes.size() || bytes.size() - (address - base) < 8) {
      return std::nullopt;
    }
    uint64_t v;
    std::memcpy(&v, bytes.data() + (address - base), sizeof v);
    return v;
  }
  bool Contains(uint64_t address) const { return address >= base && address - base < bytes.size(); }
};

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_MACHINE_STATE_H_
