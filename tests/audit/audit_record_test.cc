#include "audit/audit_record.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace ephemera::audit {
namespace {

constexpr char kChain[] = "session/0f1e2d3c-aaaa-4bbb-8ccc-123456789abc";
// Computed once, independently of this code, with:
//   printf '%s' 'ephemera-audit-genesis:session/0f1e2d3c-aaaa-4bbb-8ccc-123456789abc' | sha256sum
constexpr char kGenesis[] =
    "sha256:338ff1e28f9c795a8b5fa6ddd3fd156b6d15c5e408a27eae5a252900d367f20d";
// The documented canonical form of FixedRecord() sealed as seq 1: sorted keys, no spaces.
constexpr char kCanonical[] =
    R"({"action":"injected","chain":"session/0f1e2d3c-aaaa-4bbb-8ccc-123456789abc",)"
    R"("details":{"pids":[1,7],"sections":["process","fds"]},)"
    R"("message":"Injected ephemeral container ephemera-3f9a1c0b7e.","outcome":"ok",)"
    R"("prev":"sha256:338ff1e28f9c795a8b5fa6ddd3fd156b6d15c5e408a27eae5a252900d367f20d",)"
    R"("reason":"INC-1234 checkout returns 500","requester":"alice","seq":1,)"
    R"("session":"team-a/debug-checkout","target":"team-a/checkout-7d9f/app",)"
    R"("time":"2026-11-28T23:39:24.123Z"})";
// printf '%s\n%s' "$prev" "$canonical" | sha256sum, over the two strings above.
constexpr char kExpectedHash[] =
    "sha256:acf1819023b8f264015b899d1abd0562b53afd9485784032453c4144d1419dd7";

AuditRecord FixedRecord() {
  AuditRecord r;
  r.time = "2026-11-28T23:39:24.123Z";
  r.chain = kChain;
  r.session = "team-a/debug-checkout";
  r.requester = "alice";
  r.reason = "INC-1234 checkout returns 500";
  r.target = "team-a/checkout-7d9f/app";
  r.action = "injected";
  r.outcome = "ok";
  r.message = "Injected ephemeral container ephemera-3f9a1c0b7e.";
  r.details = {{"sections", {"process", "fds"}}, {"pids", {1, 7}}};
  return r;
}

TEST(AuditRecordTest, GenesisHashMatchesSha256sum) {
  EXPECT_EQ(GenesisHash(kChain), kGenesis);
  EXPECT_EQ(GenesisHead(kChain), (ChainHead{0, kGenesis}));
  EXPECT_NE(GenesisHash("session/other"), kGenesis);
}

TEST(AuditRecordTest, SealMatchesHandComputedHash) {
  const SealedRecord sealed = Seal(FixedRecord(), GenesisHead(kChain));
  EXPECT_EQ(sealed.seq, 1U);
  EXPECT_EQ(sealed.prev, kGenesis);
  EXPECT_EQ(CanonicalRecordJson(sealed), kCanonical);
  EXPECT_EQ(sealed.hash, kExpectedHash);
  EXPECT_EQ(HeadAfter(sealed), (ChainHead{1, kExpectedHash}));
}

TEST(AuditRecordTest, SealIsDeterministicAndChainsOnTheHead) {
  const SealedRecord a = Seal(FixedRecord(), GenesisHead(kChain));
  EXPECT_EQ(a, Seal(FixedRecord(), GenesisHead(kChain)));
  const SealedRecord b = Seal(FixedRecord(), HeadAfter(a));
  EXPECT_EQ(b.seq, 2U);
  EXPECT_EQ(b.prev, a.hash);
  EXPECT_NE(b.hash, a.hash);
  EXPECT_EQ(ComputeRecordHash(b), b.hash);
}

TEST(AuditRecordTest, EveryFieldIsCoveredByTheHash) {
  const SealedRecord base = Seal(FixedRecord(), GenesisHead(kChain));
  auto changed = [&](auto&& edit) {
    SealedRecord s = base;
    edit(s);
    return ComputeRecordHash(s) != base.hash;
  };
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.time = "2026-11-28T23:39:24.124Z"; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.chain = "session/x"; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.session = "team-a/other"; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.requester = "mallory"; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.reason = "nothing"; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.target = "team-a/p/c"; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.action = "denied"; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.outcome = "Forbidden"; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.message = "Nothing happened."; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.record.details["pids"] = {1}; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.seq = 2; }));
  EXPECT_TRUE(changed([](SealedRecord& s) { s.prev = GenesisHash("session/x"); }));
}

TEST(AuditRecordTest, JsonRoundTripKeepsEveryField) {
  const SealedRecord sealed = Seal(FixedRecord(), GenesisHead(kChain));
  const nlohmann::json json = ToJson(sealed);
  EXPECT_EQ(json.at("hash"), kExpectedHash);
  EXPECT_EQ(json.at("seq"), 1);
  StatusOr<SealedRecord> back = SealedRecordFromJson(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, sealed);
}

TEST(AuditRecordTest, NonAsciiAndControlCharactersSurviveTheRoundTrip) {
  AuditRecord r = FixedRecord();
  r.message = "Grüße, 日本語 ✓ \"quoted\" back\\slash\nnew line\ttab\x01\x1f end";
  r.reason = std::string("nul\0inside", 10);
  r.details = {{"argv0", "naïve\r\n"}};
  const SealedRecord sealed = Seal(r, GenesisHead(kChain));
  EXPECT_EQ(sealed.record.message, r.message);
  EXPECT_EQ(sealed.record.reason, r.reason);
  const std::string line = ToJson(sealed).dump();
  EXPECT_EQ(line.find('\n'), std::string::npos) << "a record must stay on one line";
  // The documented canonical escapes: control characters as \n, \t or \u00xx; UTF-8 kept as is.
  const std::string canonical = CanonicalRecordJson(sealed);
  EXPECT_NE(canonical.find(R"(back\\slash\nnew line\ttab\u0001\u001f end)"), std::string::npos)
      << canonical;
  EXPECT_NE(canonical.find("日本語 ✓ \\\"quoted\\\""), std::string::npos) << canonical;
  EXPECT_NE(canonical.find(R"("reason":"nul\u0000inside")"), std::string::npos) << canonical;
  StatusOr<SealedRecord> back = SealedRecordFromJson(nlohmann::json::parse(line));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, sealed);
  EXPECT_EQ(ComputeRecordHash(*back), sealed.hash);
}

TEST(AuditRecordTest, InvalidUtf8IsReplacedBeforeHashing) {
  AuditRecord r = FixedRecord();
  r.message = "bad \xff\xfe byte";
  r.details = {{"note", "\xc3"}};
  const SealedRecord sealed = Seal(r, GenesisHead(kChain));
  EXPECT_EQ(sealed.record.message, "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
  StatusOr<SealedRecord> back = SealedRecordFromJson(nlohmann::json::parse(ToJson(sealed).dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, sealed);
  EXPECT_EQ(ComputeRecordHash(*back), sealed.hash);
}

TEST(AuditRecordTest, NonObjectDetailsAreWrapped) {
  AuditRecord r = FixedRecord();
  r.details = nullptr;
  EXPECT_EQ(Seal(r, GenesisHead(kChain)).record.details, nlohmann::json::object());
  r.details = {1, 2};
  EXPECT_EQ(Seal(r, GenesisHead(kChain)).record.details, (nlohmann::json{{"value", {1, 2}}}));
}

TEST(AuditRecordTest, FromJsonRejectsMissingWrongAndUnknownFields) {
  const nlohmann::json good = ToJson(Seal(FixedRecord(), GenesisHead(kChain)));
  auto rejected = [&](auto&& edit, const std::string& mentions) {
    nlohmann::json j = good;
    edit(j);
    StatusOr<SealedRecord> r = SealedRecordFromJson(j);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(mentions), std::string::npos) << r.status().message();
  };
  rejected([](nlohmann::json& j) { j.erase("requester"); }, "requester");
  rejected([](nlohmann::json& j) { j["seq"] = 0; }, "seq");
  rejected([](nlohmann::json& j) { j["seq"] = -3; }, "seq");
  rejected([](nlohmann::json& j) { j["seq"] = "1"; }, "seq");
  rejected([](nlohmann::json& j) { j["hash"] = "sha256:ABC"; }, "hash");
  rejected([](nlohmann::json& j) { j["prev"] = 5; }, "prev");
  rejected([](nlohmann::json& j) { j["details"] = "x"; }, "details");
  rejected([](nlohmann::json& j) { j["extra"] = "x"; }, "extra");
  EXPECT_FALSE(SealedRecordFromJson(nlohmann::json::array()).ok());
}

TEST(AuditRecordTest, ChainHeadJsonMatchesTheStatusShape) {
  const ChainHead head{3, kExpectedHash};
  EXPECT_EQ(ToJson(head), (nlohmann::json{{"records", 3}, {"head", kExpectedHash}}));
  StatusOr<ChainHead> back = ChainHeadFromJson(ToJson(head));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, head);
  StatusOr<ChainHead> empty = ChainHeadFromJson(nlohmann::json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, ChainHead{});
  EXPECT_FALSE(ChainHeadFromJson({{"records", 1}, {"head", "md5:x"}}).ok());
  EXPECT_FALSE(ChainHeadFromJson({{"records", -1}, {"head", kExpectedHash}}).ok());
}

TEST(AuditRecordTest, FormatsTimeAsUtcMilliseconds) {
  using std::chrono::milliseconds;
  const std::chrono::system_clock::time_point t{milliseconds(1'795'909'164'123)};
  EXPECT_EQ(FormatAuditTime(t), "2026-11-28T23:39:24.123Z");
  EXPECT_EQ(FormatAuditTime(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatAuditTime(t + std::chrono::microseconds(999)), "2026-11-28T23:39:24.123Z");
}

TEST(AuditRecordTest, ChainNames) {
  EXPECT_EQ(SessionChain("uid-1"), "session/uid-1");
  EXPECT_EQ(ControllerChain("ephemera-controller-0"), "controller/ephemera-controller-0");
  EXPECT_TRUE(IsAuditHash(kGenesis));
  EXPECT_FALSE(IsAuditHash("sha256:"));
  EXPECT_FALSE(IsAuditHash(std::string(kGenesis) + "0"));
}

// The fork note is hashed with the record, and a record without one keeps the hash it had before
// the note existed (the canonical JSON leaves the fields out).
TEST(AuditRecordTest, TheForkNoteIsHashedAndAbsentWhenEmpty) {
  AuditRecord r;
  r.chain = "session/a";
  r.action = "accepted";
  const ChainHead genesis = GenesisHead("session/a");
  const SealedRecord plain = Seal(r, genesis);
  EXPECT_EQ(CanonicalRecordJson(plain).find("abandons"), std::string::npos);
  EXPECT_EQ(CanonicalRecordJson(plain).find("resumes"), std::string::npos);
  EXPECT_FALSE(ToJson(plain).contains("abandons"));

  const SealedRecord named = Seal(r, genesis, ForkNote{plain.hash, false});
  const SealedRecord resumed = Seal(r, genesis, ForkNote{"", true});
  EXPECT_NE(named.hash, plain.hash);
  EXPECT_NE(resumed.hash, plain.hash);
  for (const SealedRecord& s : {plain, named, resumed}) {
    StatusOr<SealedRecord> back = SealedRecordFromJson(ToJson(s));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, s);
    EXPECT_EQ(ComputeRecordHash(*back), s.hash);
  }
  // Removing the note from the line is a change the hash shows.
  nlohmann::json stripped = ToJson(named);
  stripped.erase("abandons");
  EXPECT_NE(ComputeRecordHash(*SealedRecordFromJson(stripped)), named.hash);
}

// Only the values that mean "set" may be written: a field the hash would not cover is refused.
TEST(AuditRecordTest, FromJsonRejectsForkNoteValuesThatMeanUnset) {
  AuditRecord r;
  r.chain = "session/a";
  const SealedRecord sealed = Seal(r, GenesisHead("session/a"));
  for (const auto& [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"resumes", false}, {"resumes", "yes"}, {"abandons", ""}, {"abandons", "sha256:00"}}) {
    nlohmann::json j = ToJson(sealed);
    j[key] = value;
    StatusOr<SealedRecord> parsed = SealedRecordFromJson(j);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << key << "=" << value;
  }
}

}  // namespace
}  // namespace ephemera::audit
