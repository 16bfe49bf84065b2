// ByteReader: a bounds-checked little-endian cursor over bytes, with the LEB128 and DWARF pointer
// encodings that ELF and call-frame information use. Pure; reads past the end return zero and set a
// sticky failure flag, so parsers check Ok() once after a group of reads.
#ifndef EPHEMERA_DEBUGPOD_STACKS_BYTE_READER_H_
#define EPHEMERA_DEBUGPOD_STACKS_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace ephemera::stacks {

// DW_EH_PE_* pointer encodings (LSB Core spec, "DWARF Exception Header Encoding").
inline constexpr uint8_t kPeAbsptr = 0x00;
inline constexpr uint8_t kPeUleb128 = 0x01;
inline constexpr uint8_t kPeUdata2 = 0x02;
inline constexpr uint8_t kPeUdata4 = 0x03;
inline constexpr uint8_t kPeUdata8 = 0x04;
inline constexpr uint8_t kPeSleb128 = 0x09;
inline constexpr uint8_t kPeSdata2 = 0x0a;
inline constexpr uint8_t kPeSdata4 = 0x0b;
inline constexpr uint8_t kPeSdata8 = 0x0c;
inline constexpr uint8_t kPePcrel = 0x10;
inline constexpr uint8_t kPeTextrel = 0x20;
inline constexpr uint8_t kPeDatarel = 0x30;
inline constexpr uint8_t kPeFuncrel = 0x40;
inline constexpr uint8_t kPeAligned = 0x50;
inline constexpr uint8_t kPeIndirect = 0x80;
inline constexpr uint8_t kPeOmit = 0xff;

// Base addresses for the relative pointer encodings. `vaddr` of the reader supplies the pc-relative
// base (the address of the encoded field itself).
struct PointerBases {
  uint64_t text = 0;
  uint64_t data = 0;
  uint64_t func = 0;
};

class ByteReader {
 public:
  // `vaddr` is the address bytes[0] has in the ELF image; it is the base of pc-relative pointers.
  explicit ByteReader(std::span<const uint8_t> bytes, uint64_t vaddr = 0)
      : bytes_(bytes), vaddr_(vaddr) {}

  bool Ok() const { return ok_; }
  size_t Position() const { return pos_; }
  size_t Size() const { return bytes_.size(); }
  size_t Remaining() const { return pos_ <= bytes_.size() ? bytes_.size() - pos_ : 0; }
  bool AtEnd() const { return pos_ >= bytes_.size(); }
  // The ELF virtual address of the next byte.
  uint64_t Vaddr() const { return vaddr_ + pos_; }

  void Seek(size_t pos) {
    if (pos > bytes_.size()) {
      ok_ = false;
      pos_ = bytes_.size();
      return;
    }
    pos_ = pos;
  }
  void Skip(size_t n) { Seek(n > Remaining() ? bytes_.size() + 1 : pos_ + n); }

  uint8_t U8() { return Fixed<uint8_t>(); }
  uint16_t U16() { return Fixed<uint16_t>(); }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  int8_t S8() { return static_cast<int8_t>(U8()); }
  int16_t S16() { return static_cast<int16_t>(U16()); }
  int32_t S32() { return static_cast<int32_t>(U32()); }
  int64_t S64() { return static_cast<int64_t>(U64()); }

  uint64_t Uleb128() {
    uint64_t result = 0;
    unsigned shift = 0;
    while (true) {
      uint8_t byte = U8();
      if (!ok_) return 0;
      if (shift < 64) result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) return result;
    }
  }

  int64_t Sleb128() {
    uint64_t result = 0;
    unsigned shift = 0;
    uint8_t byte = 0;
    do {
      byte = U8();
      if (!ok_) return 0;
      if (shift < 64) result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    if (shift < 64 && (byte & 0x40)) result |= ~uint64_t{0} << shift;
    return static_cast<int64_t>(result);
  }

  std::span<const uint8_t> Bytes(size_t n) {
    if (n > Remaining()) {
      ok_ = false;
      pos_ = bytes_.size();
      return {};
    }
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  // A NUL-terminated string; fails if no NUL before the end.
  std::string_view CString() {
    for (size_t i = pos_; i < bytes_.size(); ++i) {
      if (bytes_[i] == 0) {
        std::string_view out(reinterpret_cast<const char*>(bytes_.data() + pos_), i - pos_);
        pos_ = i + 1;
        return out;
      }
    }
    ok_ = false;
    pos_ = bytes_.size();
    return {};
  }

  // Reads a pointer in DW_EH_PE encoding `encoding`. Returns nullopt for DW_EH_PE_omit, for
  // indirect pointers (the value lives in the target's memory, which this reader never touches; the
  // bytes are still consumed) and on malformed input (Ok() then turns false).
  std::optional<uint64_t> EncodedPointer(uint8_t encoding, const PointerBases& bases) {
    if (encoding == kPeOmit) return std::nullopt;
    uint64_t field_vaddr = Vaddr();
    if ((encoding & 0x70) == kPeAligned) {
      size_t aligned = (pos_ + 7) & ~size_t{7};
      Seek(aligned);
      field_vaddr = Vaddr();
    }
    uint64_t value = 0;
    switch (encoding & 0x0f) {
      case kPeAbsptr:
        value = U64();
        break;
      case kPeUleb128:
        value = Uleb128();
        break;
      case kPeUdata2:
        value = U16();
        break;
      case kPeUdata4:
        value = U32();
        break;
      case kPeUdata8:
        value = U64();
        break;
      case kPeSleb128:
        value = static_cast<uint64_t>(Sleb128());
        break;
      case kPeSdata2:
        value = static_cast<uint64_t>(static_cast<int64_t>(S16()));
        break;
      case kPeSdata4:
        value = static_cast<uint64_t>(static_cast<int64_t>(S32()));
        break;
      case kPeSdata8:
        value = U64();
        break;
      default:
        ok_ = false;
        return std::nullopt;
    }
    if (!ok_) return std::nullopt;
    switch (encoding & 0x70) {
      case kPeAbsptr:
        break;
      case kPePcrel:
        value += field_vaddr;
        break;
      case kPeTextrel:
        value += bases.text;
        break;
      case kPeDatarel:
        value += bases.data;
        break;
      case kPeFuncrel:
        value += bases.func;
        break;
      case kPeAligned:
        break;
      default:
        ok_ = false;
        return std::nullopt;
    }
    if (encoding & kPeIndirect) return std::nullopt;
    return value;
  }

 private:
  template <typename T>
  T Fixed() {
    if (sizeof(T) > Remaining()) {
      ok_ = false;
      pos_ = bytes_.size();
      return 0;
    }
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  std::span<const uint8_t> bytes_;
  uint64_t vaddr_ = 0;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_BYTE_READER_H_
