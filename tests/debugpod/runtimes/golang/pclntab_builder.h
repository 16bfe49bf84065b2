// PclntabBuilder: hand-made .gopclntab bytes (Go 1.20+ format) for unit tests: functions with a
// constant frame size, file and line over their whole body.
#ifndef EPHEMERA_TESTS_DEBUGPOD_RUNTIMES_GOLANG_PCLNTAB_BUILDER_H_
#define EPHEMERA_TESTS_DEBUGPOD_RUNTIMES_GOLANG_PCLNTAB_BUILDER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ephemera::runtimes::golang {

struct FakeFunc {
  std::string name;
  uint32_t entry_offset = 0;  // from the text start
  uint32_t size = 0x100;
  int32_t frame_size = 0;  // the SP delta over the body
  std::string file = "/src/main.go";
  int32_t line = 10;
  uint8_t flag = 0;
};

class PclntabBuilder {
 public:
  static constexpr uint64_t kTextStart = 0x401000;

  // Functions must be given in ascending entry order, without overlap.
  static std::vector<uint8_t> Build(const std::vector<FakeFunc>& funcs) {
    std::vector<uint8_t> names, cutab, filetab, pctab{0};
    std::vector<uint32_t> name_offsets, pcsp, pcfile, pcln;
    for (size_t i = 0; i < funcs.size(); ++i) {
      const FakeFunc& f = funcs[i];
      name_offsets.push_back(static_cast<uint32_t>(names.size()));
      names.insert(names.end(), f.name.begin(), f.name.end());
      names.push_back(0);
      PutU32(cutab, static_cast<uint32_t>(filetab.size()));
      filetab.insert(filetab.end(), f.file.begin(), f.file.end());
      filetab.push_back(0);
      pcsp.push_back(Table(pctab, f.frame_size, f.size));
      pcfile.push_back(Table(pctab, static_cast<int32_t>(i), f.size));
      pcln.push_back(Table(pctab, f.line, f.size));
    }
    std::vector<uint8_t> out(72, 0);
    uint64_t funcname_offset = out.size();
    out.insert(out.end(), names.begin(), names.end());
    Align(out);
    uint64_t cu_offset = out.size();
    out.insert(out.end(), cutab.begin(), cutab.end());
    uint64_t filetab_offset = out.size();
    out.insert(out.end(), filetab.begin(), filetab.end());
    uint64_t pctab_offset = out.size();
    out.insert(out.end(), pctab.begin(), pctab.end());
    Align(out);
    uint64_t pcln_offset = out.size();
    std::vector<uint8_t> pcln_table;
    uint32_t func_start = static_cast<uint32_t>((funcs.size() + 1) * 8);
    for (size_t i = 0; i < funcs.size(); ++i) {
      PutU32(pcln_table, funcs[i].entry_offset);
      PutU32(pcln_table, func_start + static_cast<uint32_t>(i) * 44);
    }
    PutU32(pcln_table, funcs.back().entry_offset + funcs.back().size);
    PutU32(pcln_table, 0);
    for (size_t i = 0; i < funcs.size(); ++i) {
      PutU32(pcln_table, funcs[i].entry_offset);
      PutU32(pcln_table, name_offsets[i]);
      PutU32(pcln_table, 0);  // args
      PutU32(pcln_table, 0);  // deferreturn
      PutU32(pcln_table, pcsp[i]);
      PutU32(pcln_table, pcfile[i]);
      PutU32(pcln_table, pcln[i]);
      PutU32(pcln_table, 0);  // npcdata
      PutU32(pcln_table, 0);  // cuOffset: all files in one CU, index i
      PutU32(pcln_table, static_cast<uint32_t>(funcs[i].line));
      pcln_table.push_back(0);  // funcID
      pcln_table.push_back(funcs[i].flag);
      pcln_table.push_back(0);
      pcln_table.push_back(0);  // nfuncdata
    }
    out.insert(out.end(), pcln_table.begin(), pcln_table.end());
    PutU32At(out, 0, 0xfffffff1);
    out[6] = 1;  // quantum
    out[7] = 8;  // pointer size
    PutU64At(out, 8, funcs.size());
    PutU64At(out, 16, funcs.size());
    PutU64At(out, 24, kTextStart);
    PutU64At(out, 32, funcname_offset);
    PutU64At(out, 40, cu_offset);
    PutU64At(out, 48, filetab_offset);
    PutU64At(out, 56, pctab_offset);
    PutU64At(out, 64, pcln_offset);
    return out;
  }

  static void PutU32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  static void PutU32At(std::vector<uint8_t>& out, size_t at, uint32_t v) {
    std::memcpy(out.data() + at, &v, 4);
  }
  static void PutU64At(std::vector<uint8_t>& out, size_t at, uint64_t v) {
    std::memcpy(out.data() + at, &v, 8);
  }
  static void PutUvarint(std::vector<uint8_t>& out, uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
  }

 private:
  static void Align(std::vector<uint8_t>& out) {
    while (out.size() % 8 != 0) out.push_back(0);
  }
  // A pcvalue table holding `value` over [entry, entry + size); returns its pctab offset.
  static uint32_t Table(std::vector<uint8_t>& pctab, int32_t value, uint32_t size) {
    uint32_t offset = static_cast<uint32_t>(pctab.size());
    int64_t delta = static_cast<int64_t>(value) + 1;  // from the initial -1
    PutUvarint(pctab, static_cast<uint64_t>((delta << 1) ^ (delta >> 63)));
    PutUvarint(pctab, size);
    pctab.push_back(0);
    return offset;
  }
};

}  // namespace ephemera::runtimes::golang

#endif  // EPHEMERA_TESTS_DEBUGPOD_RUNTIMES_GOLANG_PCLNTAB_BUILDER_H_
