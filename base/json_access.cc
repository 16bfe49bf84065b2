#include "base/json_access.h"

namespace ephemera::base {

using nlohmann::json;

const json* FindField(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const json* ObjectField(const json& object, std::string_view key) {
  const json* field = FindField(object, key);
  return field != nullptr && field->is_object() ? field : nullptr;
}

const json& ObjectFieldOrEmpty(const json& object, std::string_view key) {
  static const json kEmptyObject = json::object();
  const json* field = ObjectField(object, key);
  return field != nullptr ? *field : kEmptyObject;
}

const json& ArrayField(const json& object, std::string_view key) {
  static const json kEmptyArray = json::array();
  const json* field = FindField(object, key);
  return field != nullptr && field->is_array() ? *field : kEmptyArray;
}

std::string StringField(const json& object, std::string_view key) {
  const json* field = FindField(object, key);
  return field != nullptr && field->is_string() ? field->get<std::string>() : std::string();
}

std::optional<std::int64_t> IntField(const json& object, std::string_view key) {
  const json* field = FindField(object, key);
  if (field == nullptr || !field->is_number_integer()) return std::nullopt;
  return field->get<std::int64_t>();
}

std::string StringAt(const json& object, std::string_view pointer) {
  const json::json_pointer at{std::string(pointer)};
  if (!object.contains(at)) return "";
  const json& value = object.at(at);
  return value.is_string() ? value.get<std::string>() : "";
}

}  // namespace ephemera::base
