#include "audit/audit_record.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <set>
#include <utility>

#include "base/hash.h"

namespace ephemera::audit {
namespace {

constexpr std::string_view kHashPrefix = "sha256:";
constexpr std::string_view kGenesisPrefix = "ephemera-audit-genesis:";

// "sha256:" and the hex digest: the form hashes take in records.
std::string PrefixedSha256(std::string_view data) {
  return std::string(kHashPrefix) + base::Sha256Hex(data);
}

// Replacing invalid UTF-8 here, before hashing, keeps the stored record, the written line and the
// hash in agreement: nlohmann's parser (the verifier's input path) only ever yields valid UTF-8.
std::string ValidUtf8(const std::string& text) {
  return nlohmann::json::parse(
             nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
      .get<std::string>();
}

// The same for a whole JSON value; also turns NaN and infinities into null, as dump() writes them.
nlohmann::json NormalizedJson(const nlohmann::json& value) {
  return nlohmann::json::parse(
      value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

AuditRecord Normalized(const AuditRecord& in) {
  AuditRecord out;
  out.time = ValidUtf8(in.time);
  out.chain = ValidUtf8(in.chain);
  out.session = ValidUtf8(in.session);
  out.requester = ValidUtf8(in.requester);
  out.reason = ValidUtf8(in.reason);
  out.target = ValidUtf8(in.target);
  out.action = ValidUtf8(in.action);
  out.outcome = ValidUtf8(in.outcome);
  out.message = ValidUtf8(in.message);
  if (in.details.is_null()) {
    out.details = nlohmann::json::object();
  } else if (in.details.is_object()) {
    out.details = NormalizedJson(in.details);
  } else {
    out.details = nlohmann::json{{"value", NormalizedJson(in.details)}};
  }
  return out;
}

// Every field but "hash"; nlohmann's default object type is a std::map, so dump() sorts keys.
// The fork note's fields only when set: records without them hash as they always did.
nlohmann::json UnhashedJson(const SealedRecord& s) {
  nlohmann::json out{
      {"time", s.record.time},
      {"chain", s.record.chain},
      {"seq", s.seq},
      {"prev", s.prev},
      {"session", s.record.session},
      {"requester", s.record.requester},
      {"reason", s.record.reason},
      {"target", s.record.target},
      {"action", s.record.action},
      {"outcome", s.record.outcome},
      {"message", s.record.message},
      {"details", s.record.details},
  };
  if (!s.fork.abandons.empty()) out["abandons"] = s.fork.abandons;
  if (s.fork.resumes) out["resumes"] = true;
  return out;
}

StatusOr<std::string> StringField(const nlohmann::json& json, const char* key) {
  auto it = json.find(key);
  if (it == json.end()) {
    return InvalidArgumentError(std::string("field \"") + key + "\" is missing");
  }
  if (!it->is_string()) {
    return InvalidArgumentError(std::string("field \"") + key + "\" must be a string");
  }
  return it->get<std::string>();
}

}  // namespace

std::string SessionChain(std::string_view session_uid) {
  return "session/" + std::string(session_uid);
}

std::string ControllerChain(std::string_view replica_identity) {
  return "controller/" + std::string(replica_identity);
}

std::string FormatAuditTime(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  const auto secs = std::chrono::floor<std::chrono::seconds>(ms);
  const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::array<char, 32> seconds_text{};
  std::strftime(seconds_text.data(), seconds_text.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  const auto millis = static_cast<int>((ms - secs).count());
  std::array<char, 8> millis_text{};
  std::snprintf(millis_text.data(), millis_text.size(), ".%03dZ", millis);
  return std::string(seconds_text.data()) + millis_text.data();
}

std::string GenesisHash(std::string_view chain) {
  std::string data(kGenesisPrefix);
  data.append(chain);
  return PrefixedSha256(data);
}

ChainHead GenesisHead(std::string_view chain) { return ChainHead{0, GenesisHash(chain)}; }

bool IsAuditHash(std::string_view text) {
  if (text.size() != kHashPrefix.size() + base::kSha256HexLength) return false;
  if (text.substr(0, kHashPrefix.size()) != kHashPrefix) return false;
  for (char c : text.substr(kHashPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

SealedRecord Seal(const AuditRecord& record, const ChainHead& previous, const ForkNote& fork) {
  SealedRecord sealed;
  sealed.record = Normalized(record);
  sealed.seq = previous.records + 1;
  sealed.prev = previous.hash;
  if (IsAuditHash(fork.abandons)) sealed.fork.abandons = fork.abandons;
  sealed.fork.resumes = fork.resumes;
  sealed.hash = ComputeRecordHash(sealed);
  return sealed;
}

ChainHead HeadAfter(const SealedRecord& sealed) { return ChainHead{sealed.seq, sealed.hash}; }

std::string CanonicalRecordJson(const SealedRecord& sealed) {
  return UnhashedJson(sealed).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ComputeRecordHash(const SealedRecord& sealed) {
  return PrefixedSha256(sealed.prev + "\n" + CanonicalRecordJson(sealed));
}

nlohmann::json ToJson(const SealedRecord& sealed) {
  nlohmann::json out = UnhashedJson(sealed);
  out["hash"] = sealed.hash;
  return out;
}

StatusOr<SealedRecord> SealedRecordFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return InvalidArgumentError("an audit record must be a JSON object");
  static const std::set<std::string, std::less<>> kKnown = {
      "time",   "chain",  "seq",     "prev",    "hash",    "session",  "requester", "reason",
      "target", "action", "outcome", "message", "details", "abandons", "resumes"};
  for (const auto& [key, unused] : json.items()) {
    if (kKnown.find(key) == kKnown.end()) {
      return InvalidArgumentError("unknown field \"" + key + "\" (not covered by the hash)");
    }
  }
  SealedRecord s;
  const std::pair<const char*, std::string*> strings[] = {
      {"time", &s.record.time},
      {"chain", &s.record.chain},
      {"prev", &s.prev},
      {"hash", &s.hash},
      {"session", &s.record.session},
      {"requester", &s.record.requester},
      {"reason", &s.record.reason},
      {"target", &s.record.target},
      {"action", &s.record.action},
      {"outcome", &s.record.outcome},
      {"message", &s.record.message},
  };
  for (const auto& [key, field] : strings) {
    StatusOr<std::string> value = StringField(json, key);
    if (!value.ok()) return value.status();
    *field = std::move(*value);
  }
  auto seq = json.find("seq");
  if (seq == json.end()) return InvalidArgumentError("field \"seq\" is missing");
  if (!seq->is_number_unsigned() || seq->get<std::uint64_t>() == 0) {
    return InvalidArgumentError("field \"seq\" must be a positive integer");
  }
  s.seq = seq->get<std::uint64_t>();
  auto details = json.find("details");
  if (details == json.end()) return InvalidArgumentError("field \"details\" is missing");
  if (!details->is_object()) return InvalidArgumentError("field \"details\" must be an object");
  s.record.details = *details;
  if (s.record.chain.empty()) return InvalidArgumentError("field \"chain\" must not be empty");
  if (!IsAuditHash(s.prev)) {
    return InvalidArgumentError("field \"prev\" must be \"sha256:\" and 64 lowercase hex digits");
  }
  if (!IsAuditHash(s.hash)) {
    return InvalidArgumentError("field \"hash\" must be \"sha256:\" and 64 lowercase hex digits");
  }
  if (auto abandons = json.find("abandons"); abandons != json.end()) {
    if (!abandons->is_string() || !IsAuditHash(abandons->get<std::string>())) {
      return InvalidArgumentError(
          "field \"abandons\" must be \"sha256:\" and 64 lowercase hex digits");
    }
    s.fork.abandons = abandons->get<std::string>();
  }
  if (auto resumes = json.find("resumes"); resumes != json.end()) {
    if (!resumes->is_boolean() || !resumes->get<bool>()) {
      return InvalidArgumentError("field \"resumes\" must be true when present");
    }
    s.fork.resumes = true;
  }
  return s;
}

nlohmann::json ToJson(const ChainHead& head) {
  return nlohmann::json{{"records", head.records}, {"head", head.hash}};
}

StatusOr<ChainHead> ChainHeadFromJson(const nlohmann::json& json) {
  if (json.is_null() || (json.is_object() && json.empty())) return ChainHead{};
  if (!json.is_object()) return InvalidArgumentError("an audit head must be a JSON object");
  ChainHead head;
  auto records = json.find("records");
  if (records == json.end() || !records->is_number_integer() || records->get<std::int64_t>() < 0) {
    return InvalidArgumentError("audit head field \"records\" must be a non-negative integer");
  }
  head.records = records->get<std::uint64_t>();
  auto hash = json.find("head");
  if (hash == json.end() || !hash->is_string() || !IsAuditHash(hash->get<std::string>())) {
    return InvalidArgumentError(
        "audit head field \"head\" must be \"sha256:\" and 64 lowercase hex digits");
  }
  head.hash = hash->get<std::string>();
  return head;
}

}  // namespace ephemera::audit
