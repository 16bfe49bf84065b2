#include "envelope/age_header.h"

#include <algorithm>
#include <string>
#include <utility>

#include "envelope/primitives.h"

namespace ephemera::envelope {
namespace {

constexpr size_t kBodyColumns = 64;
constexpr size_t kMacBase64Chars = 43;  // 32 bytes, unpadded

bool IsVisibleAscii(char c) { return c >= 0x21 && c <= 0x7e; }

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Reads one LF-terminated line from `file` at `*pos` (without the LF), bounded by `max_len` and by
// the header size limit.
StatusOr<std::string_view> NextLine(std::string_view file, size_t* pos, size_t max_len) {
  const size_t limit = std::min(file.size(), kMaxHeaderBytes);
  if (*pos >= limit) {
    if (file.size() > kMaxHeaderBytes) {
      return ResourceExhaustedError("age header larger than " + std::to_string(kMaxHeaderBytes) +
                                    " bytes");
    }
    return DataLossError("age header truncated");
  }
  const size_t search_end = std::min(limit, *pos + max_len + 1);
  const size_t lf = file.substr(0, search_end).find('\n', *pos);
  if (lf == std::string_view::npos) {
    if (search_end == file.size()) return DataLossError("age header truncated");
    if (search_end == kMaxHeaderBytes) {
      return ResourceExhaustedError("age header larger than " + std::to_string(kMaxHeaderBytes) +
                                    " bytes");
    }
    return ResourceExhaustedError("age header line longer than " + std::to_string(max_len) +
                                  " bytes");
  }
  std::string_view line = file.substr(*pos, lf - *pos);
  *pos = lf + 1;
  return line;
}

StatusOr<Stanza> ParseStanza(std::string_view arg_line, std::string_view file, size_t* pos) {
  Stanza stanza;
  std::string_view rest = arg_line.substr(3);  // after "-> "
  while (true) {
    const size_t sp = rest.find(' ');
    std::string_view arg = rest.substr(0, sp);
    if (arg.empty()) return DataLossError("malformed age header: empty stanza argument");
    for (char c : arg) {
      if (!IsVisibleAscii(c)) {
        return DataLossError("malformed age header: non-printable stanza argument");
      }
    }
    if (stanza.args.size() == kMaxStanzaArgs) {
      return ResourceExhaustedError("age stanza has more than " + std::to_string(kMaxStanzaArgs) +
                                    " arguments");
    }
    stanza.args.emplace_back(arg);
    if (sp == std::string_view::npos) break;
    rest = rest.substr(sp + 1);
  }
  std::string encoded;
  while (true) {
    StatusOr<std::string_view> line = NextLine(file, pos, kMaxHeaderLineBytes);
    if (!line.ok()) return line.status();
    if (line->size() > kBodyColumns) {
      return DataLossError("malformed age header: stanza body line longer than 64 columns");
    }
    for (char c : *line) {
      if (!IsBase64Char(c)) {
        return DataLossError("malformed age header: stanza body is not unpadded base64");
      }
    }
    encoded.append(*line);
    if (encoded.size() > kMaxStanzaBodyBytes / 3 * 4 + 4) {
      return ResourceExhaustedError("age stanza body larger than " +
                                    std::to_string(kMaxStanzaBodyBytes) + " bytes");
    }
    if (line->size() < kBodyColumns) break;
  }
  StatusOr<std::string> body = Base64RawDecode(encoded);
  if (!body.ok()) {
    return DataLossError("malformed age header: stanza body: " + body.status().message());
  }
  stanza.body = std::move(*body);
  return stanza;
}

}  // namespace

StatusOr<Header> ParseHeader(std::string_view file) {
  constexpr std::string_view kPrefix = "age-encryption.org/";
  if (file.substr(0, kPrefix.size()) != kPrefix) {
    return InvalidArgumentError("not an age file: it does not start with \"age-encryption.org/\"");
  }
  Header header;
  size_t pos = 0;
  StatusOr<std::string_view> version = NextLine(file, &pos, kMaxHeaderLineBytes);
  if (!version.ok()) return version.status();
  if (*version != kAgeVersionLine.substr(0, kAgeVersionLine.size() - 1)) {
    return InvalidArgumentError("unsupported age format version (only age-encryption.org/v1)");
  }
  while (true) {
    const size_t line_start = pos;
    StatusOr<std::string_view> line = NextLine(file, &pos, kMaxHeaderLineBytes);
    if (!line.ok()) return line.status();
    if (line->substr(0, 3) == "-> ") {
      if (header.stanzas.size() == kMaxStanzas) {
        return ResourceExhaustedError("age header has more than " + std::to_string(kMaxStanzas) +
                                      " stanzas");
      }
      StatusOr<Stanza> stanza = ParseStanza(*line, file, &pos);
      if (!stanza.ok()) return stanza.status();
      header.stanzas.push_back(std::move(*stanza));
      continue;
    }
    if (line->substr(0, 3) == "---") {
      if (header.stanzas.empty()) return DataLossError("malformed age header: no recipient stanza");
      if (line->size() != 4 + kMacBase64Chars || (*line)[3] != ' ') {
        return DataLossError("malformed age header: bad MAC line");
      }
      StatusOr<std::string> mac = Base64RawDecode(line->substr(4));
      if (!mac.ok()) return DataLossError("malformed age header: MAC: " + mac.status().message());
      header.mac = std::move(*mac);
      header.mac_input_size = line_start + 3;
      header.payload_offset = pos;
      return header;
    }
    return DataLossError("malformed age header: unexpected line");
  }
}

StatusOr<std::string> MarshalHeaderWithoutMac(const std::vector<Stanza>& stanzas) {
  std::string out(kAgeVersionLine);
  for (const Stanza& stanza : stanzas) {
    if (stanza.args.empty()) return InvalidArgumentError("age stanza without arguments");
    out.append("->");
    for (const std::string& arg : stanza.args) {
      if (arg.empty()) return InvalidArgumentError("empty age stanza argument");
      for (char c : arg) {
        if (!IsVisibleAscii(c)) return InvalidArgumentError("non-printable age stanza argument");
      }
      out.push_back(' ');
      out.append(arg);
    }
    out.push_back('\n');
    const std::string body = Base64RawEncode(stanza.body);
    // Full 64-column lines, then a final shorter line, which is empty when the body fills the last.
    size_t i = 0;
    for (; i + kBodyColumns <= body.size(); i += kBodyColumns) {
      out.append(body, i, kBodyColumns);
      out.push_back('\n');
    }
    out.append(body, i, std::string::npos);
    out.push_back('\n');
  }
  out.append("---");
  return out;
}

}  // namespace ephemera::envelope
