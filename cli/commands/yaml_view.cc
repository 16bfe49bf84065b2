#include "cli/commands/yaml_view.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <string_view>

namespace ephemera::commands {
namespace {

using nlohmann::json;

// Whether a YAML 1.1 or 1.2 reader would take `text`, written plain, for something other than a
// string: a number, a boolean, null, or nothing at all.
bool ReadsAsAnotherType(const std::string& text) {
  if (text.empty()) return true;
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf",
                           "-.inf", "+.inf", ".nan"}) {
    if (lower == word) return true;
  }
  // Numbers and YAML 1.1 timestamps: anything that starts like a number (a digit, after a sign or
  // a dot) and holds nothing but what YAML's number and date forms are made of (1e3, 0x1f, 0o17,
  // 0b101, 1_000, 12:30, 2026-12-07) is quoted: wider than those forms, never narrower. "5m" or
  // "1.2.3-beta" stay plain.
  std::size_t i = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (i < text.size() && text[i] == '.') ++i;
  if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) ||
           std::string_view("xXoObB_.:+-").find(c) != std::string_view::npos;
  });
}

// Whether `text` holds DEL, NEL (U+0085) or a Unicode line or paragraph separator: some readers
// refuse them raw and YAML 1.1 readers break lines at them, so they are written as escapes.
bool HasBreakLikeCharacters(const std::string& text) {
  return text.find('\x7f') != std::string::npos || text.find("\xc2\x85") != std::string::npos ||
         text.find("\xe2\x80\xa8") != std::string::npos ||
         text.find("\xe2\x80\xa9") != std::string::npos;
}

void EmitString(YAML::Emitter& out, const std::string& text) {
  if (HasBreakLikeCharacters(text)) {
    out << YAML::EscapeNonAscii << YAML::DoubleQuoted << text;
    return;
  }
  if (ReadsAsAnotherType(text)) out << YAML::DoubleQuoted;
  out << text;
}

void Emit(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;  // "{}", as kubectl prints it
        break;
      }
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        EmitString(out, key);
        out << YAML::Value;
        Emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;  // "[]"
        break;
      }
      out << YAML::BeginSeq;
      for (const json& item : value) Emit(out, item);
      out << YAML::EndSeq;
      break;
    case json::value_t::string:
      EmitString(out, value.get_ref<const std::string&>());
      break;
    case json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      break;
    case json::value_t::null:
    case json::value_t::discarded:
      out << YAML::Null;
      break;
    default:  // numbers: JSON's own text is valid YAML
      out << value.dump();
      break;
  }
}

}  // namespace

std::string ToYaml(const json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  Emit(out, value);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace ephemera::commands
