#include "kube/object/url.h"

namespace ephemera::kube {

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Query& Query::Add(std::string_view key, std::string_view value) {
  params_.emplace_back(std::string(key), std::string(value));
  return *this;
}

Query& Query::AddIfNotEmpty(std::string_view key, std::string_view value) {
  if (!value.empty()) Add(key, value);
  return *this;
}

Query& Query::AddInt(std::string_view key, long long value) {
  return Add(key, std::string_view(std::to_string(value)));
}

Query& Query::AddBool(std::string_view key, bool value) {
  return Add(key, std::string_view(value ? "true" : "false"));
}

std::string Query::Encode() const {
  std::string out;
  for (const auto& [key, value] : params_) {
    out += out.empty() ? '?' : '&';
    out += PercentEncode(key);
    out += '=';
    out += PercentEncode(value);
  }
  return out;
}

}  // namespace ephemera::kube
