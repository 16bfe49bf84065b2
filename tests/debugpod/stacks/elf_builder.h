// ElfBuilder: small ELF64 x86-64 images built in memory for the ElfModule tests, with whatever
// section headers a test needs, including hostile ones (headers that share contents, notes that
// end early). Layout: the ELF header, each section's contents (8-byte aligned), .shstrtab, then
// the section header table (index 0 is the null section).
#ifndef EPHEMERA_TESTS_DEBUGPOD_STACKS_ELF_BUILDER_H_
#define EPHEMERA_TESTS_DEBUGPOD_STACKS_ELF_BUILDER_H_

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ephemera::stacks {

struct ElfSectionSpec {
  std::string name{};
  uint32_t type = SHT_PROGBITS;
  std::vector<uint8_t> contents{};
  uint32_t link = 0;
  uint64_t entry_size = 0;
  uint64_t flags = 0;
  uint64_t address = 0;
};

class ElfBuilder {
 public:
  // Adds a section with its own contents; returns its section index.
  uint32_t Add(ElfSectionSpec spec) {
    sections_.push_back({std::move(spec), -1});
    return static_cast<uint32_t>(sections_.size());
  }
  // Adds a header whose contents are those of section `index` (the same file bytes).
  uint32_t AddAlias(ElfSectionSpec spec, uint32_t index) {
    sections_.push_back({std::move(spec), static_cast<int>(index)});
    return static_cast<uint32_t>(sections_.size());
  }

  std::vector<uint8_t> Build() const {
    std::vector<uint8_t> out(sizeof(Elf64_Ehdr));
    std::vector<uint64_t> offsets;
    std::vector<uint64_t> sizes;
    for (const Entry& e : sections_) {
      if (e.alias_of >= 0) {
        offsets.push_back(offsets[static_cast<size_t>(e.alias_of) - 1]);
        sizes.push_back(sizes[static_cast<size_t>(e.alias_of) - 1]);
        continue;
      }
      Align(out);
      offsets.push_back(out.size());
      sizes.push_back(e.spec.contents.size());
      out.insert(out.end(), e.spec.contents.begin(), e.spec.contents.end());
    }
    std::string names(1, '\0');
    std::vector<uint32_t> name_offsets;
    for (const Entry& e : sections_) {
      name_offsets.push_back(static_cast<uint32_t>(names.size()));
      names += e.spec.name;
      names.push_back('\0');
    }
    const auto names_index = static_cast<uint32_t>(sections_.size() + 1);
    const auto names_name = static_cast<uint32_t>(names.size());
    names += ".shstrtab";
    names.push_back('\0');
    const uint64_t names_offset = out.size();
    out.insert(out.end(), names.begin(), names.end());
    Align(out);

    const uint64_t table = out.size();
    std::vector<Elf64_Shdr> headers(sections_.size() + 2);
    for (size_t i = 0; i < sections_.size(); ++i) {
      const ElfSectionSpec& s = sections_[i].spec;
      Elf64_Shdr& h = headers[i + 1];
      h.sh_name = name_offsets[i];
      h.sh_type = s.type;
      h.sh_flags = s.flags;
      h.sh_addr = s.address;
      h.sh_offset = offsets[i];
      h.sh_size = sizes[i];
      h.sh_link = s.link;
      h.sh_addralign = 8;
      h.sh_entsize = s.entry_size;
    }
    Elf64_Shdr& n = headers.back();
    n.sh_name = names_name;
    n.sh_type = SHT_STRTAB;
    n.sh_offset = names_offset;
    n.sh_size = names.size();
    n.sh_addralign = 1;
    const size_t table_bytes = headers.size() * sizeof(Elf64_Shdr);
    out.resize(out.size() + table_bytes);
    std::memcpy(out.data() + table, headers.data(), table_bytes);

    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_DYN;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_shoff = table;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = static_cast<uint16_t>(headers.size());
    eh.e_shstrndx = static_cast<uint16_t>(names_index);
    std::memcpy(out.data(), &eh, sizeof eh);
    return out;
  }

 private:
  struct Entry {
    ElfSectionSpec spec;
    int alias_of;  // section index whose contents this header shares; -1 for its own
  };
  static void Align(std::vector<uint8_t>& out) { out.resize((out.size() + 7) & ~size_t{7}); }

  std::vector<Entry> sections_;
};

// A .symtab-style table: the null symbol, then one STT_FUNC symbol per name in `names` at
// 0x1000 + 0x10 * i, size 0x10, in section `text_index`; `strings` receives the string table.
inline std::vector<uint8_t> FunctionSymbols(const std::vector<std::string>& names,
                                            uint16_t text_index, std::vector<uint8_t>& strings) {
  strings.assign(1, 0);
  std::vector<uint8_t> table(sizeof(Elf64_Sym));
  for (size_t i = 0; i < names.size(); ++i) {
    Elf64_Sym sym{};
    sym.st_name = static_cast<uint32_t>(strings.size());
    sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    sym.st_shndx = text_index;
    sym.st_value = 0x1000 + 0x10 * i;
    sym.st_size = 0x10;
    strings.insert(strings.end(), names[i].begin(), names[i].end());
    strings.push_back(0);
    const size_t at = table.size();
    table.resize(at + sizeof sym);
    std::memcpy(table.data() + at, &sym, sizeof sym);
  }
  return table;
}

}  // namespace ephemera::stacks

#endif  // EPHEMERA_TESTS_DEBUGPOD_STACKS_ELF_BUILDER_H_
