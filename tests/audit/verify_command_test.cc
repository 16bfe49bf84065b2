#include "audit/verify_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "tests/audit/fake_audit_sink.h"

namespace ephemera::audit {
namespace {

using ::testing::HasSubstr;

struct CommandRun {
  int code = -1;
  std::string out;
  std::string err;
};

CommandRun Verify(const std::vector<std::string>& args, const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  CommandRun run;
  run.code = RunAuditVerify(args, in, out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

// Three chains, 6 records, as JsonLinesAuditSink writes them.
struct Fixture {
  Fixture() {
    AuditLog log(sink);
    for (const char* chain : {"session/u1", "session/u2", "controller/replica-0"}) {
      for (int i = 0; i < 2; ++i) {
        AuditRecord r;
        r.time = "2026-11-28T23:39:24.123Z";
        r.chain = chain;
        r.action = i == 0 ? "admitted" : "injected";
        r.outcome = "ok";
        r.message = "Step.";
        heads[chain] = *log.Append(r);
      }
    }
    text = sink.JsonLines();
  }
  std::string Anchor(const std::string& chain) const {
    return chain + "=" + std::to_string(heads.at(chain).records) + ":" + heads.at(chain).hash;
  }
  FakeAuditSink sink;
  std::map<std::string, ChainHead> heads;
  std::string text;
};

TEST(VerifyCommandTest, VerifiesStandardInput) {
  const Fixture f;
  const CommandRun run = Verify({"--anchor", f.Anchor("session/u1"), "-"}, f.text);
  EXPECT_EQ(run.code, kVerifyExitVerified) << run.out << run.err;
  EXPECT_EQ(run.out, "verified 3 chains, 6 records\n");
  EXPECT_EQ(run.err, "");
}

TEST(VerifyCommandTest, ReportsProblemsWithExitCodeOne) {
  const Fixture f;
  std::string tampered = f.text;
  const auto at = tampered.find("injected");
  ASSERT_NE(at, std::string::npos);
  tampered.replace(at, 8, "INJECTED");
  const CommandRun run = Verify({}, tampered);
  EXPECT_EQ(run.code, kVerifyExitProblems);
  EXPECT_THAT(run.out, HasSubstr("line 2: chain session/u1: changed record seq 2: its hash does "
                                 "not match its content"));
  EXPECT_THAT(run.out, HasSubstr("NOT verified: 1 problem in 3 chains, 6 records"));
}

TEST(VerifyCommandTest, AnchorWithOnlyTheHashDetectsARemovedTail) {
  const Fixture f;
  std::string text = f.text;
  // Drop the last line (controller/replica-0 seq 2).
  text.erase(text.rfind('\n', text.size() - 2) + 1);
  const std::string anchor = "controller/replica-0=" + f.heads.at("controller/replica-0").hash;
  const CommandRun run = Verify({"--anchor=" + anchor}, text);
  EXPECT_EQ(run.code, kVerifyExitProblems) << run.out;
  EXPECT_THAT(run.out, HasSubstr("no record has the anchored head"));
}

TEST(VerifyCommandTest, JsonOutput) {
  const Fixture f;
  const CommandRun run = Verify({"-o", "json"}, f.text);
  ASSERT_EQ(run.code, kVerifyExitVerified) << run.err;
  const nlohmann::json json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json.at("verified"), true);
  EXPECT_EQ(json.at("records"), 6);
  EXPECT_EQ(json.at("chains").size(), 3U);
}

TEST(VerifyCommandTest, ReadsAFile) {
  const Fixture f;
  std::string path = ::testing::TempDir() + "audit_verify_XXXXXX";
  const int fd = ::mkstemp(path.data());
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    std::ofstream file(path);
    file << f.text;
  }
  const CommandRun run = Verify({path, "-o=text"}, "");
  std::remove(path.c_str());
  EXPECT_EQ(run.code, kVerifyExitVerified) << run.out << run.err;
  EXPECT_EQ(run.out, "verified 3 chains, 6 records\n");
}

TEST(VerifyCommandTest, UnreadableInputAndBadUsageExitTwo) {
  const CommandRun missing = Verify({"/nonexistent/audit.jsonl"}, "");
  EXPECT_EQ(missing.code, kVerifyExitUnreadable);
  EXPECT_THAT(missing.err, HasSubstr("cannot open /nonexistent/audit.jsonl"));
  EXPECT_EQ(Verify({"--anchor", "session/u1=sha256:zz"}, "").code, kVerifyExitUnreadable);
  EXPECT_EQ(Verify({"--anchor", "nochain"}, "").code, kVerifyExitUnreadable);
  EXPECT_EQ(Verify({"--anchor"}, "").code, kVerifyExitUnreadable);
  EXPECT_EQ(Verify({"-o", "yaml"}, "").code, kVerifyExitUnreadable);
  EXPECT_EQ(Verify({"--frobnicate"}, "").code, kVerifyExitUnreadable);
  EXPECT_EQ(Verify({"a", "b"}, "").code, kVerifyExitUnreadable);
  const CommandRun help = Verify({"--help"}, "");
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("usage: audit verify"));
}

TEST(VerifyCommandTest, PartialChainsNeedTheFlag) {
  const Fixture f;
  const std::string text = f.text.substr(f.text.find('\n') + 1);  // drop session/u1 seq 1
  EXPECT_EQ(Verify({}, text).code, kVerifyExitProblems);
  const CommandRun run = Verify({"--allow-partial"}, text);
  EXPECT_EQ(run.code, kVerifyExitVerified) << run.out;
}

}  // namespace
}  // namespace ephemera::audit
