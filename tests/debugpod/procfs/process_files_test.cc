#include "debugpod/procfs/process_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "debugpod/procfs/real_proc_fs.h"

namespace ephemera::procfs {
namespace {

using ::testing::ElementsAre;

const RealProcFs& Fixture() {
  static const RealProcFs fs(std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/proc");
  return fs;
}

std::string ReadFixture(int pid, const std::string& relative) {
  StatusOr<std::string> text = Fixture().ReadFile(pid, relative);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : "";
}

TEST(ParseProcStatusTest, ParsesCapturedStatus) {
  StatusOr<ProcStatus> status = ParseProcStatus(ReadFixture(4242, "status"));
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->name, "ephemera-target");
  EXPECT_EQ(status->state, "S");
  EXPECT_EQ(status->state_name, "sleeping");
  EXPECT_EQ(status->pid, 4242);
  EXPECT_EQ(status->tgid, 4242);
  EXPECT_EQ(status->ppid, 4240);
  EXPECT_THAT(status->uids, ElementsAre(1000u, 1001u, 1002u, 1003u));
  EXPECT_THAT(status->gids, ElementsAre(2000u, 2001u, 2002u, 2003u));
  EXPECT_EQ(status->threads, 2);
  EXPECT_EQ(status->vm_size_kib, 125044u);
  EXPECT_EQ(status->vm_rss_kib, 1556u);
  EXPECT_EQ(status->vm_hwm_kib, 1556u);
  EXPECT_EQ(status->voluntary_ctxt_switches, 24u);
  EXPECT_EQ(status->nonvoluntary_ctxt_switches, 3u);
  EXPECT_EQ(status->cap_eff, 0x000001fffeffffffu);
  EXPECT_EQ(status->cap_amb, 0u);
  EXPECT_THAT(status->nspid, ElementsAre(4242));
}

TEST(ParseProcStatusTest, KernelThreadHasNoMemoryFigures) {
  StatusOr<ProcStatus> status = ParseProcStatus(ReadFixture(2, "status"));
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->name, "kthreadd");
  EXPECT_FALSE(status->vm_rss_kib.has_value());
  EXPECT_FALSE(status->vm_size_kib.has_value());
}

TEST(ParseProcStatusTest, KeepsSpacesInName) {
  StatusOr<ProcStatus> status = ParseProcStatus("Name:\tmy worker 1\nState:\tD (disk sleep)\n");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->name, "my worker 1");
  EXPECT_EQ(status->state, "D");
  EXPECT_EQ(status->state_name, "disk sleep");
}

TEST(ParseProcStatusTest, RejectsTextWithoutNameOrState) {
  EXPECT_EQ(ParseProcStatus("Pid:\t12\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStatus("Name:\tx\nState:\tS (sleeping)\nUid:\t1\n").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ParseProcStatTest, ParsesCapturedStat) {
  StatusOr<ProcStat> stat = ParseProcStat(ReadFixture(4242, "stat"));
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ(stat->pid, 4242);
  EXPECT_EQ(stat->comm, "ephemera-target");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 4240);
  EXPECT_EQ(stat->utime_ticks, 250u);
  EXPECT_EQ(stat->stime_ticks, 75u);
  EXPECT_EQ(stat->num_threads, 2);
  EXPECT_EQ(stat->start_time_ticks, 54678u);
  EXPECT_EQ(stat->processor, 1);
  EXPECT_FALSE(stat->IsKernelThread());
}

TEST(ParseProcStatTest, DetectsKernelThread) {
  StatusOr<ProcStat> stat = ParseProcStat(ReadFixture(2, "stat"));
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_TRUE(stat->IsKernelThread());
}

TEST(ParseProcStatTest, CommMayContainParenthesesAndSpaces) {
  std::string text = ReadFixture(4242, "stat");
  text.replace(text.find("(ephemera-target)"), 17, "(a) b (c))");
  StatusOr<ProcStat> stat = ParseProcStat(text);
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ(stat->comm, "a) b (c)");
  EXPECT_EQ(stat->ppid, 4240);
}

TEST(ParseProcStatTest, RejectsTruncatedStat) {
  EXPECT_EQ(ParseProcStat("12 (x) S 1 2 3").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStat("garbage").status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseCmdlineTest, SplitsOnNulAndDropsTrailingNul) {
  EXPECT_THAT(ParseCmdline(ReadFixture(4242, "cmdline")),
              ElementsAre("/app/ephemera-target", "--port", "8080", "--token=fixture-token-value"));
}

TEST(ParseCmdlineTest, KeepsEmptyArgumentsAndSetproctitleStrings) {
  using namespace std::string_view_literals;
  EXPECT_THAT(ParseCmdline("a\0\0b\0"sv), ElementsAre("a", "", "b"));
  EXPECT_THAT(ParseCmdline("nginx: worker process"sv), ElementsAre("nginx: worker process"));
  EXPECT_TRUE(ParseCmdline(""sv).empty());
}

TEST(ParseEnvironTest, SplitsNamesAndValues) {
  std::vector<EnvVar> vars = ParseEnviron(ReadFixture(4242, "environ"));
  ASSERT_EQ(vars.size(), 5u);
  EXPECT_EQ(vars[0].name, "PATH");
  EXPECT_EQ(vars[0].value, "/usr/local/bin:/usr/bin");
  EXPECT_EQ(vars[2].name, "DB_PASSWORD");
  EXPECT_EQ(vars[2].value, "fixture-password");
  EXPECT_EQ(vars[3].name, "EMPTY");
  EXPECT_EQ(vars[3].value, "");
  EXPECT_EQ(vars[4].name, "NOEQUALS");
  EXPECT_EQ(vars[4].value, "");
}

TEST(ParseEnvironTest, ValueMayContainEquals) {
  using namespace std::string_view_literals;
  std::vector<EnvVar> vars = ParseEnviron("OPTS=a=b=c\0"sv);
  ASSERT_EQ(vars.size(), 1u);
  EXPECT_EQ(vars[0].value, "a=b=c");
}

TEST(ParseLimitsTest, ParsesEveryRow) {
  StatusOr<std::vector<Limit>> limits = ParseLimits(ReadFixture(4242, "limits"));
  ASSERT_TRUE(limits.ok()) << limits.status().ToString();
  ASSERT_EQ(limits->size(), 16u);
  EXPECT_EQ((*limits)[0].name, "Max cpu time");
  EXPECT_FALSE((*limits)[0].soft.has_value());
  EXPECT_EQ((*limits)[0].units, "seconds");
  EXPECT_EQ((*limits)[3].name, "Max stack size");
  EXPECT_EQ((*limits)[3].soft, 8388608u);
  EXPECT_FALSE((*limits)[3].hard.has_value());
  EXPECT_EQ((*limits)[13].name, "Max nice priority");
  EXPECT_EQ((*limits)[13].units, "");
  EXPECT_EQ((*limits)[15].name, "Max realtime timeout");
  EXPECT_EQ((*limits)[15].units, "us");
}

TEST(ParseLimitsTest, RejectsMissingHeaderAndBadValues) {
  EXPECT_FALSE(ParseLimits("Max cpu time  unlimited unlimited seconds\n").ok());
  EXPECT_FALSE(ParseLimits("Limit                     Soft Limit           Hard Limit           "
                           "Units\nMax cpu time              lots                 unlimited    "
                           "        seconds\n")
                   .ok());
}

TEST(ParseIoTest, ParsesCounters) {
  StatusOr<ProcIo> io = ParseIo(ReadFixture(4242, "io"));
  ASSERT_TRUE(io.ok()) << io.status().ToString();
  EXPECT_EQ(io->rchar, 816u);
  EXPECT_EQ(io->wchar, 89u);
  EXPECT_EQ(io->syscr, 2u);
  EXPECT_EQ(io->syscw, 7u);
  EXPECT_EQ(io->write_bytes, 12288u);
}

TEST(ParseIoTest, RejectsMissingCounters) {
  EXPECT_FALSE(ParseIo("syscr: 1\n").ok());
  EXPECT_FALSE(ParseIo("rchar: x\nwchar: 1\n").ok());
}

}  // namespace
}  // namespace ephemera::procfs
