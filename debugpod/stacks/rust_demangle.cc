#include "debugpod/stacks/rust_demangle.h"

#include <cstdint>
#include <string>

namespace ephemera::stacks {
namespace {

// Recursion and size bounds: a symbol name comes from the target's binary, so it is untrusted.
constexpr int kMaxDepth = 64;
constexpr size_t kMaxOutput = 4096;
// Back references can make a short name expand exponentially; parsing stops after this many
// productions even where nothing is printed (impl paths, the instantiating crate).
constexpr int kMaxSteps = 20000;

// A recursive-descent printer over the grammar of RFC 2603 ("Rust symbol name mangling v0").
// Every Parse* consumes its production from `in_` and appends its readable form to `out_`;
// any violation sets failed_, after which the result is discarded. Disambiguator hashes (crate
// ids) are dropped, as in the short form rustc-demangle prints.
class V0Printer {
 public:
  explicit V0Printer(std::string_view mangled) : in_(mangled) {}

  std::optional<std::string> Run() {
    // An optional encoding version (decimal) precedes the path; only version 0 (absent) exists.
    if (Peek() >= '0' && Peek() <= '9') return std::nullopt;
    ParsePath(/*in_value=*/true);
    // What may follow: the instantiating crate (a path, not printed) and a vendor suffix.
    if (!failed_ && pos_ < in_.size() && in_[pos_] != '.' && in_[pos_] != '$') {
      const bool printing = printing_;
      printing_ = false;
      ParsePath(true);
      printing_ = printing;
    }
    if (failed_ || (pos_ < in_.size() && in_[pos_] != '.' && in_[pos_] != '$')) {
      return std::nullopt;
    }
    return out_;
  }

 private:
  char Peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  void Fail() { failed_ = true; }
  void Print(std::string_view s) {
    if (!printing_ || failed_) return;
    if (out_.size() + s.size() > kMaxOutput) {
      Fail();
      return;
    }
    out_.append(s);
  }

  // <base-62-number> = {0-9 a-z A-Z} "_": "_" is 0, otherwise the digits' value plus one.
  uint64_t ParseBase62() {
    if (Eat('_')) return 0;
    uint64_t value = 0;
    while (!failed_) {
      const char c = Peek();
      uint64_t digit;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint64_t>(c - '0');
      } else if (c >= 'a' && c <= 'z') {
        digit = static_cast<uint64_t>(c - 'a') + 10;
      } else if (c >= 'A' && c <= 'Z') {
        digit = static_cast<uint64_t>(c - 'A') + 36;
      } else if (c == '_') {
        ++pos_;
        return value + 1;
      } else {
        Fail();
        break;
      }
      ++pos_;
      if (value > (UINT64_MAX - digit) / 62) {
        Fail();
        break;
      }
      value = value * 62 + digit;
    }
    return 0;
  }

  // <decimal-number> = "0" | [1-9] {0-9}
  uint64_t ParseDecimal() {
    const char first = Peek();
    if (first < '0' || first > '9') {
      Fail();
      return 0;
    }
    ++pos_;
    if (first == '0') return 0;
    uint64_t value = static_cast<uint64_t>(first - '0');
    while (Peek() >= '0' && Peek() <= '9') {
      if (value > UINT64_MAX / 10 - 9) {
        Fail();
        return 0;
      }
      value = value * 10 + static_cast<uint64_t>(Peek() - '0');
      ++pos_;
    }
    return value;
  }

  // [<disambiguator>] = ["s" <base-62-number>]; returns the disambiguator (0 when absent).
  uint64_t ParseDisambiguator() { return Eat('s') ? ParseBase62() + 1 : 0; }

  // <undisambiguated-identifier> = ["u"] <decimal-number> ["_"] <bytes>
  std::string_view ParseIdentifierBytes(bool* punycode) {
    *punycode = Eat('u');
    const uint64_t length = ParseDecimal();
    Eat('_');
    if (failed_ || length > in_.size() - pos_) {
      Fail();
      return {};
    }
    std::string_view bytes = in_.substr(pos_, length);
    pos_ += length;
    return bytes;
  }

  void PrintIdentifier(std::string_view bytes, bool punycode) {
    if (punycode) {
      // Not decoded: shown as the encoded form, marked.
      Print("punycode{");
      Print(bytes);
      Print("}");
    } else {
      Print(bytes);
    }
  }

  // <backref> = "B" <base-62-number>: re-parse the production at that position (relative to the
  // start of the name after "_R"), which must lie before the back reference.
  template <typename ParseAt>
  void FollowBackref(ParseAt parse_at) {
    const size_t here = pos_ - 1;
    const uint64_t target = ParseBase62();
    if (failed_ || target >= here) {
      Fail();
      return;
    }
    const size_t resume = pos_;
    pos_ = static_cast<size_t>(target);
    parse_at();
    pos_ = resume;
  }

  bool Enter() {
    if (++depth_ > kMaxDepth || ++steps_ > kMaxSteps) Fail();
    return !failed_;
  }
  void Leave() { --depth_; }

  void ParsePath(bool in_value) {
    if (!Enter()) return;
    const char tag = Peek();
    ++pos_;
    switch (tag) {
      case 'C': {  // crate root
        ParseDisambiguator();
        bool punycode = false;
        std::string_view name = ParseIdentifierBytes(&punycode);
        PrintIdentifier(name, punycode);
        break;
      }
      case 'M': {  // inherent impl: <T>
        ParseDisambiguator();
        SkipPath();
        Print("<");
        ParseType();
        Print(">");
        break;
      }
      case 'X': {  // trait impl: <T as Trait>
        ParseDisambiguator();
        SkipPath();
        Print("<");
        ParseType();
        Print(" as ");
        ParsePath(false);
        Print(">");
        break;
      }
      case 'Y': {  // trait definition: <T as Trait>
        Print("<");
        ParseType();
        Print(" as ");
        ParsePath(false);
        Print(">");
        break;
      }
      case 'N': {  // nested path
        const char ns = Peek();
        if (!((ns >= 'a' && ns <= 'z') || (ns >= 'A' && ns <= 'Z'))) {
          Fail();
          break;
        }
        ++pos_;
        ParsePath(in_value);
        const uint64_t disambiguator = ParseDisambiguator();
        bool punycode = false;
        std::string_view name = ParseIdentifierBytes(&punycode);
        if (failed_) break;
        if (ns >= 'a' && ns <= 'z') {  // an ordinary namespace (types, values)
          if (!name.empty()) {
            Print("::");
            PrintIdentifier(name, punycode);
          }
          break;
        }
        // A special namespace: closures, shims, ...
        Print("::{");
        if (ns == 'C') {
          Print("closure");
        } else if (ns == 'S') {
          Print("shim");
        } else {
          Print(std::string_view(&ns, 1));
        }
        if (!name.empty()) {
          Print(":");
          PrintIdentifier(name, punycode);
        }
        Print("#");
        Print(std::to_string(disambiguator));
        Print("}");
        break;
      }
      case 'I': {  // generic arguments
        ParsePath(in_value);
        Print(in_value ? "::<" : "<");
        for (int i = 0; !failed_ && !Eat('E'); ++i) {
          if (i > 0) Print(", ");
          ParseGenericArg();
        }
        Print(">");
        break;
      }
      case 'B':
        FollowBackref([&] { ParsePath(in_value); });
        break;
      default:
        Fail();
    }
    Leave();
  }

  // An impl's own path (where the impl block is) is not printed.
  void SkipPath() {
    const bool printing = printing_;
    printing_ = false;
    ParsePath(false);
    printing_ = printing;
  }

  void ParseGenericArg() {
    if (Eat('L')) {  // a lifetime: erased in symbols, shown as '_
      ParseBase62();
      Print("'_");
    } else if (Eat('K')) {
      ParseConst();
    } else {
      ParseType();
    }
  }

  static std::string_view BasicType(char c) {
    switch (c) {
      case 'a':
        return "i8";
      case 'b':
        return "bool";
      case 'c':
        return "char";
      case 'd':
        return "f64";
      case 'e':
        return "str";
      case 'f':
        return "f32";
      case 'h':
        return "u8";
      case 'i':
        return "isize";
      case 'j':
        return "usize";
      case 'l':
        return "i32";
      case 'm':
        return "u32";
      case 'n':
        return "i128";
      case 'o':
        return "u128";
      case 'p':
        return "_";
      case 's':
        return "i16";
      case 't':
        return "u16";
      case 'u':
        return "()";
      case 'v':
        return "...";
      case 'x':
        return "i64";
      case 'y':
        return "u64";
      case 'z':
        return "!";
      default:
        return {};
    }
  }

  void ParseType() {
    if (!Enter()) return;
    const char tag = Peek();
    if (std::string_view basic = BasicType(tag); !basic.empty()) {
      ++pos_;
      Print(basic);
      Leave();
      return;
    }
    switch (tag) {
      case 'A':  // [T; N]
        ++pos_;
        Print("[");
        ParseType();
        Print("; ");
        ParseConst();
        Print("]");
        break;
      case 'S':  // [T]
        ++pos_;
        Print("[");
        ParseType();
        Print("]");
        break;
      case 'T': {  // (A, B, ...)
        ++pos_;
        Print("(");
        int count = 0;
        for (; !failed_ && !Eat('E'); ++count) {
          if (count > 0) Print(", ");
          ParseType();
        }
        if (count == 1) Print(",");
        Print(")");
        break;
      }
      case 'R':  // &T, &mut T, with an optional (erased) lifetime
      case 'Q':
        ++pos_;
        Print(tag == 'R' ? "&" : "&mut ");
        if (Eat('L')) ParseBase62();
        ParseType();
        break;
      case 'P':  // *const T, *mut T
      case 'O':
        ++pos_;
        Print(tag == 'P' ? "*const " : "*mut ");
        ParseType();
        break;
      case 'F':
        ++pos_;
        ParseFnSig();
        break;
      case 'D':
        ++pos_;
        ParseDynBounds();
        if (Eat('L')) ParseBase62();
        break;
      case 'B':
        ++pos_;
        FollowBackref([&] { ParseType(); });
        break;
      default:
        ParsePath(false);
    }
    Leave();
  }

  // <fn-sig> = [<binder>] ["U"] ["K" <abi>] {<type>} "E" <type>
  void ParseFnSig() {
    if (Eat('G')) ParseBase62();
    if (Eat('U')) Print("unsafe ");
    if (Eat('K')) {
      Print("extern \"");
      if (Eat('C')) {
        Print("C");
      } else {
        bool punycode = false;
        std::string_view abi = ParseIdentifierBytes(&punycode);
        for (char c : abi) Print(c == '_' ? "-" : std::string_view(&c, 1));
      }
      Print("\" ");
    }
    Print("fn(");
    for (int i = 0; !failed_ && !Eat('E'); ++i) {
      if (i > 0) Print(", ");
      ParseType();
    }
    Print(")");
    if (Peek() == 'u') {
      ++pos_;  // returns (): not printed
    } else {
      Print(" -> ");
      ParseType();
    }
  }

  // <dyn-bounds> = [<binder>] {<dyn-trait>} "E"; <dyn-trait> = <path> {"p" <name> <type>}
  void ParseDynBounds() {
    if (Eat('G')) ParseBase62();
    Print("dyn ");
    for (int i = 0; !failed_ && !Eat('E'); ++i) {
      if (i > 0) Print(" + ");
      ParsePath(false);
      for (int j = 0; !failed_ && Eat('p'); ++j) {
        Print(j == 0 ? "<" : ", ");
        bool punycode = false;
        PrintIdentifier(ParseIdentifierBytes(&punycode), punycode);
        Print(" = ");
        ParseType();
      }
    }
  }

  // <const> = <type> <const-data> | "p" | <backref>; <const-data> = ["n"] {hex} "_"
  void ParseConst() {
    if (!Enter()) return;
    if (Eat('p')) {
      Print("_");
    } else if (Eat('B')) {
      FollowBackref([&] { ParseConst(); });
    } else {
      const char type = Peek();
      ++pos_;
      const bool negative = Eat('n');
      uint64_t value = 0;
      int digits = 0;
      while (!failed_ && !Eat('_')) {
        const char c = Peek();
        uint64_t digit;
        if (c >= '0' && c <= '9') {
          digit = static_cast<uint64_t>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
          digit = static_cast<uint64_t>(c - 'a') + 10;
        } else {
          Fail();
          break;
        }
        ++pos_;
        if (++digits > 16) {
          Fail();
          break;
        }
        value = value * 16 + digit;
      }
      if (!failed_) {
        if (type == 'b') {
          Print(value == 0 ? "false" : "true");
        } else {
          if (negative) Print("-");
          Print(std::to_string(value));
        }
      }
    }
    Leave();
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string out_;
  bool printing_ = true;
  bool failed_ = false;
  int depth_ = 0;
  int steps_ = 0;
};

}  // namespace

std::optional<std::string> DemangleRustV0(std::string_view name) {
  if (!name.starts_with("_R") || name.size() > kMaxOutput) return std::nullopt;
  return V0Printer(name.substr(2)).Run();
}

}  // namespace ephemera::stacks
