#include "audit/anchor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/verify_command.h"
#include "tests/audit/fake_audit_sink.h"

namespace ephemera::audit {
namespace {

using ::testing::HasSubstr;

const ChainHead kHead{7, "sha256:" + std::string(64, 'b')};

TEST(AnchorTest, TheNameIsDeterministicPerChainAndAValidObjectName) {
  const std::string name = AnchorConfigMapName("session/0f1e2d3c-aaaa-4bbb-8ccc-123456789abc");
  EXPECT_EQ(name, AnchorConfigMapName("session/0f1e2d3c-aaaa-4bbb-8ccc-123456789abc"));
  EXPECT_NE(name, AnchorConfigMapName("session/0f1e2d3c-aaaa-4bbb-8ccc-123456789abd"));
  EXPECT_EQ(name.size(), std::string("ephemera-audit-").size() + 20);
  EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-"), std::string::npos);
}

TEST(AnchorTest, AConfigMapRoundTrips) {
  const ChainAnchor anchor{"session/u1", kHead, "team-a/s", "2026-11-28T23:39:24.123Z"};
  const nlohmann::json object = BuildAnchorConfigMap(anchor, "ephemera-system", "u1");
  EXPECT_EQ(object["metadata"]["namespace"], "ephemera-system");
  EXPECT_EQ(object["metadata"]["labels"]["ephemera.dev/audit-anchor"], "true");
  EXPECT_EQ(object["metadata"]["labels"]["ephemera.dev/audit-session-uid"], "u1");
  EXPECT_EQ(object["data"]["records"], "7");
  EXPECT_TRUE(IsAnchorConfigMap(object));
  StatusOr<ChainAnchor> back = ParseAnchorConfigMap(object);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, anchor);
}

TEST(AnchorTest, RefusesMalformedAnchorsAndOnesUnderAnotherChainsName) {
  const ChainAnchor anchor{"session/u1", kHead, "", ""};
  nlohmann::json moved = BuildAnchorConfigMap(anchor, "ns");
  moved["data"]["chain"] = "session/u2";  // u1's anchor presented as u2's
  EXPECT_THAT(ParseAnchorConfigMap(moved).status().message(), HasSubstr("holds chain session/u2"));
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"records", "-1"}, {"records", "7x"}, {"records", ""}, {"head", "sha256:00"}}) {
    nlohmann::json bad = BuildAnchorConfigMap(anchor, "ns");
    bad["data"][key] = value;
    EXPECT_EQ(ParseAnchorConfigMap(bad).status().code(), StatusCode::kInvalidArgument) << key;
  }
}

TEST(AnchorTest, AnchorsFromAListSkipUnlabelledItemsAndRefuseDuplicates) {
  nlohmann::json list = {
      {"apiVersion", "v1"}, {"kind", "List"}, {"items", nlohmann::json::array()}};
  list["items"].push_back(BuildAnchorConfigMap({"session/u1", kHead, "", ""}, "ns"));
  list["items"].push_back({{"kind", "ConfigMap"}, {"metadata", {{"name", "kube-root-ca.crt"}}}});
  auto anchors = AnchorsFromJson(list);
  ASSERT_TRUE(anchors.ok()) << anchors.status().ToString();
  EXPECT_EQ(*anchors, (std::map<std::string, ChainHead>{{"session/u1", kHead}}));
  list["items"].push_back(list["items"][0]);
  EXPECT_THAT(AnchorsFromJson(list).status().message(), HasSubstr("two anchors for chain"));
  EXPECT_FALSE(AnchorsFromJson(nlohmann::json::array()).ok());
}

// The whole path an admin takes: the ConfigMaps as `kubectl get configmaps -o json` prints them,
// given to `audit verify --anchors-file`, catch a chain whose last records were cut from the log
// (the session, and its status.audit, may be gone).
class AnchorsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/ephemera-anchors-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    AuditLog log(sink_);
    for (const char* action : {"accepted", "authorized", "injected", "wiped"}) {
      AuditRecord r;
      r.chain = "session/u1";
      r.action = action;
      head_ = *log.Append(r);
    }
    nlohmann::json list = {{"kind", "List"}, {"items", nlohmann::json::array()}};
    list["items"].push_back(BuildAnchorConfigMap({"session/u1", head_, "team-a/s", ""}, "ns"));
    anchors_ = dir_ + "/anchors.json";
    std::ofstream(anchors_) << list.dump(2);
  }
  void TearDown() override {
    std::remove(anchors_.c_str());
    rmdir(dir_.c_str());
  }

  int Run(const std::vector<std::string>& args, const std::string& input, std::string* out) {
    std::istringstream in(input);
    std::ostringstream o;
    std::ostringstream e;
    const int code = RunAuditVerify(args, in, o, e);
    *out = o.str() + e.str();
    return code;
  }

  FakeAuditSink sink_;
  ChainHead head_;
  std::string dir_;
  std::string anchors_;
};

TEST_F(AnchorsFileTest, ACutTailIsCaughtAgainstTheConfigMapAnchor) {
  std::string out;
  EXPECT_EQ(Run({"--anchors-file", anchors_}, sink_.JsonLines(), &out), kVerifyExitVerified) << out;
  const std::string lines = sink_.JsonLines();
  const std::string cut = lines.substr(0, lines.rfind('\n', lines.size() - 2) + 1);  // no "wiped"
  EXPECT_EQ(Run({}, cut, &out), kVerifyExitVerified) << "without an anchor the cut is invisible";
  EXPECT_EQ(Run({"--anchors-file=" + anchors_}, cut, &out), kVerifyExitProblems);
  EXPECT_THAT(out, HasSubstr("the chain ends at seq 3 but the anchor says 4 records"));
  // The whole chain removed from the log is caught too.
  EXPECT_EQ(Run({"--anchors-file", anchors_},
                R"({"msg":"other"})"
                "\n",
                &out),
            kVerifyExitProblems);
  EXPECT_THAT(out, HasSubstr("no records of this chain in the input"));
}

TEST_F(AnchorsFileTest, AnExplicitAnchorWinsAndABadFileIsUnreadable) {
  std::string out;
  const std::string lines = sink_.JsonLines();
  const std::string cut = lines.substr(0, lines.rfind('\n', lines.size() - 2) + 1);
  const std::string third = nlohmann::json::parse(cut.substr(cut.rfind('\n', cut.size() - 2) + 1))
                                .at("hash")
                                .get<std::string>();
  EXPECT_EQ(Run({"--anchors-file", anchors_, "--anchor", "session/u1=3:" + third}, cut, &out),
            kVerifyExitVerified)
      << out;
  EXPECT_EQ(Run({"--anchors-file", dir_ + "/missing.json"}, lines, &out), kVerifyExitUnreadable);
  EXPECT_THAT(out, HasSubstr("--anchors-file: cannot open"));
  std::ofstream(anchors_) << "[1,2]";
  EXPECT_EQ(Run({"--anchors-file", anchors_}, lines, &out), kVerifyExitUnreadable);
  std::map<std::string, ChainHead> fetched{{"session/u1", ChainHead{9, head_.hash}}};
  std::istringstream in(lines);
  std::ostringstream o;
  EXPECT_EQ(RunAuditVerify({}, in, o, o, fetched), kVerifyExitProblems) << "fetched anchors count";
}

}  // namespace
}  // namespace ephemera::audit
