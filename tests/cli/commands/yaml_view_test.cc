#include "cli/commands/yaml_view.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace ephemera::commands {
namespace {

using nlohmann::json;

// YAML read back into JSON, with the types a YAML reader gives each scalar (the way a user's
// script would read -o yaml): tagged or quoted strings stay strings, plain scalars are resolved.
json Reread(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = Reread(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(Reread(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      if (node.Tag() == "!") return node.Scalar();  // quoted: a string whatever it looks like
      const std::string& text = node.Scalar();
      if (text == "true" || text == "false") return text == "true";
      if (text == "null" || text == "~") return nullptr;
      // A number by JSON's rules, if it is one.
      json number = json::parse(text, nullptr, false);
      if (!number.is_discarded() && number.is_number()) return number;
      return text;
    }
    default:
      return nullptr;
  }
}

TEST(YamlViewTest, PrintsBlockStyleWithSortedKeysLikeKubectl) {
  const json object = json::parse(
      R"({"apiVersion": "ephemera.dev/v1alpha1", "kind": "DebugSession",
          "metadata": {"name": "checkout-abcde", "labels": {"app": "shop"}},
          "spec": {"capture": ["threads", "fds"], "ttl": "5m"},
          "status": {"audit": {"records": 5}, "conditions": [], "overhead": {}}})");
  EXPECT_EQ(ToYaml(object),
            "apiVersion: ephemera.dev/v1alpha1\n"
            "kind: DebugSession\n"
            "metadata:\n"
            "  labels:\n"
            "    app: shop\n"
            "  name: checkout-abcde\n"
            "spec:\n"
            "  capture:\n"
            "    - threads\n"
            "    - fds\n"
            "  ttl: 5m\n"
            "status:\n"
            "  audit:\n"
            "    records: 5\n"
            "  conditions: []\n"
            "  overhead: {}\n");
}

TEST(YamlViewTest, EmptyMapsAndListsStayOnTheirKeysLine) {
  const json object = json::parse(
      R"({"a": {"b": {"c": {}}}, "list": [{"d": {}}, [], {}],
          "m": [{"f": {"f:s": {"f:c": {"k:{\"type\":\"A\"}": {"f:m": {}}}}}}]})");
  EXPECT_EQ(ToYaml(object),
            "a:\n"
            "  b:\n"
            "    c: {}\n"
            "list:\n"
            "  - d: {}\n"
            "  - []\n"
            "  - {}\n"
            "m:\n"
            "  - f:\n"
            "      f:s:\n"
            "        f:c:\n"
            "          k:{\"type\":\"A\"}:\n"
            "            f:m: {}\n");
}

TEST(YamlViewTest, StringsThatLookLikeOtherTypesComeBackAsStrings) {
  const json object = {
      {"numberish", json::array({"123", "1e3", "0x1f", "-5", ".5", "+1", "1_000", "12:30",
                                 "2026-12-07", "0b101", "0o17", "1.5E-3"})},
      {"plain", json::array({"5m", "1.2.3-beta", "age1xyz", "sha256:ab12"})},
      {"wordish", json::array({"true", "False", "yes", "no", "on", "off", "y", "null", "~", ""})},
      {"odd", json::array({"a: b", "- x", "#hash", "'quoted'", "\"dq\"", "multi\nline", " padded ",
                           "tab\there", "\x1b[31m", "ünïcode"})},
      {"typed", {{"int", 42}, {"negative", -7}, {"real", 2.5}, {"flag", true}, {"none", nullptr}}},
      {"123", "a key that looks like a number"},
  };
  const std::string text = ToYaml(object);
  const YAML::Node node = YAML::Load(text);
  EXPECT_EQ(Reread(node), object) << text;
  // Whatever a YAML 1.1 or 1.2 reader makes of a plain scalar, these must not be plain.
  for (const char* list : {"numberish", "wordish"}) {
    for (const auto& item : node[list]) {
      EXPECT_EQ(item.Tag(), "!") << "not quoted: " << item.Scalar() << "\nin:\n" << text;
    }
  }
  // And what no reader takes for anything but a string is written plain, as kubectl writes it.
  for (const auto& item : node["plain"]) {
    EXPECT_EQ(item.Tag(), "?") << "quoted: " << item.Scalar() << "\nin:\n" << text;
  }
}

TEST(YamlViewTest, CharactersSomeReadersTakeForLineBreaksAreEscaped) {
  // DEL, NEL (U+0085), LINE and PARAGRAPH SEPARATOR (U+2028, U+2029): raw in the output, some
  // readers refuse them and YAML 1.1 readers break lines at them.
  const json object = {{"del",
                        "a\x7f"
                        "b"},
                       {"nel",
                        "a\xc2\x85"
                        "b"},
                       {"ls",
                        "a\xe2\x80\xa8"
                        "b"},
                       {"ps",
                        "a\xe2\x80\xa9"
                        "b"}};
  const std::string text = ToYaml(object);
  for (const char* raw : {"\x7f", "\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\xa9"}) {
    EXPECT_EQ(text.find(raw), std::string::npos) << text;
  }
  EXPECT_EQ(Reread(YAML::Load(text)), object) << text;
}

}  // namespace
}  // namespace ephemera::commands
