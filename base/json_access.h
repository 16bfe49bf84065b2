// Tolerant reads of JSON that came from outside (API objects, AdmissionReviews, snapshot
// documents): a member that is missing, or of another type, reads as absent; nothing throws.
// Field = a member of `object` by name; At = a place in `object` by JSON pointer
// ("/spec/target/pod").
#ifndef EPHEMERA_BASE_JSON_ACCESS_H_
#define EPHEMERA_BASE_JSON_ACCESS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace ephemera::base {

// The member `key` of `object` (null included), or nullptr when `object` is not an object or has no
// such member.
const nlohmann::json* FindField(const nlohmann::json& object, std::string_view key);

// The object member `key`, or nullptr when it is missing or not an object.
const nlohmann::json* ObjectField(const nlohmann::json& object, std::string_view key);

// The object member `key`, or an empty object when it is missing or not an object.
const nlohmann::json& ObjectFieldOrEmpty(const nlohmann::json& object, std::string_view key);

// The array member `key`, or an empty array when it is missing or not an array.
const nlohmann::json& ArrayField(const nlohmann::json& object, std::string_view key);

// The string member `key`, or "" when it is missing or not a string.
std::string StringField(const nlohmann::json& object, std::string_view key);

// The integer member `key`, or nullopt when it is missing or not an integer.
std::optional<std::int64_t> IntField(const nlohmann::json& object, std::string_view key);

// The string at `pointer` (a well-formed JSON pointer, usually a literal), or "" when nothing is
// there or it is not a string.
std::string StringAt(const nlohmann::json& object, std::string_view pointer);

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_JSON_ACCESS_H_
