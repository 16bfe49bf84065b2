// Unit tests of the HotSpot thread-dump parser, on dumps jstack took of Parked.java under JDK 17
// and JDK 25 (testdata/), and on hand-made hostile text.
#include "debugpod/runtimes/jvm/thread_dump.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "debugpod/runtimes/runtime_stacks.h"

namespace ephemera::runtimes::jvm {
namespace {

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(JVM_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const RuntimeStack* Find(const RuntimeStacks& stacks, std::string_view name) {
  for (const RuntimeStack& s : stacks.stacks) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// The first frame whose function is `function`, or nullptr.
const SourceFrame* FindFrame(const RuntimeStack& stack, std::string_view function) {
  for (const SourceFrame& f : stack.frames) {
    if (f.function == function) return &f;
  }
  return nullptr;
}

struct Fixture {
  std::string file;
  std::string version;
  size_t java_threads;
  int main_tid;
};

void PrintTo(const Fixture& f, std::ostream* os) { *os << f.file; }

class ParkedDumpTest : public testing::TestWithParam<Fixture> {
 protected:
  void SetUp() override {
    text_ = ReadFixture(GetParam().file);
    ASSERT_FALSE(text_.empty()) << GetParam().file;
    StatusOr<RuntimeStacks> parsed = ParseThreadDump(text_, RuntimeLimits{});
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    stacks_ = std::move(*parsed);
  }
  std::string text_;
  RuntimeStacks stacks_;
};

TEST_P(ParkedDumpTest, ReadsTheVersionAndEveryJavaThreadButNoVmInternalOne) {
  EXPECT_EQ(stacks_.language, "java");
  EXPECT_EQ(stacks_.version, GetParam().version);
  EXPECT_EQ(stacks_.total, GetParam().java_threads);
  EXPECT_EQ(stacks_.stacks.size(), GetParam().java_threads);
  EXPECT_TRUE(stacks_.problems.empty()) << stacks_.problems.front();
  EXPECT_EQ(Find(stacks_, "VM Thread"), nullptr);
  EXPECT_EQ(Find(stacks_, "GC Thread#0"), nullptr);
  ASSERT_NE(Find(stacks_, "Reference Handler"), nullptr);  // a daemon Java thread
  const RuntimeStack* main = Find(stacks_, "main");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->tid, GetParam().main_tid);
  EXPECT_EQ(main->state, "RUNNABLE");
}

TEST_P(ParkedDumpTest, ThreadsHaveTheirStatesFramesAndLocks) {
  const RuntimeStack* waiter = Find(stacks_, "parked-object-wait");
  ASSERT_NE(waiter, nullptr);
  EXPECT_EQ(waiter->state, "WAITING");
  ASSERT_FALSE(waiter->frames.empty());
  // Object.wait (17), Object.wait0 (25).
  EXPECT_TRUE(waiter->frames[0].function.starts_with("java.lang.Object.wait"))
      << waiter->frames[0].function;
  ASSERT_FALSE(waiter->frames[0].locks.empty());
  EXPECT_EQ(waiter->frames[0].locks[0].action, "waiting on");
  EXPECT_EQ(waiter->frames[0].locks[0].class_name, "java.lang.Object");
  EXPECT_TRUE(waiter->frames[0].locks[0].id.starts_with("0x"));
  const SourceFrame* wait_forever = FindFrame(*waiter, "Parked.waitForever");
  ASSERT_NE(wait_forever, nullptr);
  EXPECT_EQ(wait_forever->file, "Parked.java");
  EXPECT_EQ(wait_forever->line, 19);
  ASSERT_EQ(wait_forever->locks.size(), 1u);
  EXPECT_EQ(wait_forever->locks[0].action, "locked");
  EXPECT_EQ(wait_forever->locks[0].id, waiter->frames[0].locks[0].id);

  const RuntimeStack* sleeper = Find(stacks_, "parked-sleep");
  ASSERT_NE(sleeper, nullptr);
  EXPECT_EQ(sleeper->state, "TIMED_WAITING");
  const SourceFrame* sleep_forever = FindFrame(*sleeper, "Parked.sleepForever");
  ASSERT_NE(sleep_forever, nullptr);
  EXPECT_EQ(sleep_forever->line, 26);

  const RuntimeStack* locker = Find(stacks_, "parked-reentrant-lock");
  ASSERT_NE(locker, nullptr);
  EXPECT_EQ(locker->state, "WAITING");
  ASSERT_FALSE(locker->frames.empty());
  ASSERT_EQ(locker->frames[0].locks.size(), 1u);
  EXPECT_EQ(locker->frames[0].locks[0].action, "parking to wait for");
  EXPECT_EQ(locker->frames[0].locks[0].class_name,
            "java.util.concurrent.locks.ReentrantLock$NonfairSync");
  const SourceFrame* lock_forever = FindFrame(*locker, "Parked.lockForever");
  ASSERT_NE(lock_forever, nullptr);
  EXPECT_EQ(lock_forever->line, 31);

  // Library frames lose their module prefix; native and lambda frames have no file.
  const SourceFrame* park = FindFrame(*locker, "java.util.concurrent.locks.LockSupport.park");
  ASSERT_NE(park, nullptr);
  EXPECT_EQ(park->file, "LockSupport.java");
  EXPECT_GT(park->line, 0);
  EXPECT_EQ(locker->frames[0].file, "");
  EXPECT_EQ(locker->frames[0].line, 0);
}

TEST_P(ParkedDumpTest, TheDeadlockHasBothMembersAndItsEdges) {
  const RuntimeStack* a = Find(stacks_, "deadlock-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->state, "BLOCKED");
  ASSERT_FALSE(a->frames.empty());
  EXPECT_EQ(a->frames[0].function, "Parked.deadlockA");
  EXPECT_EQ(a->frames[0].line, 45);
  ASSERT_EQ(a->frames[0].locks.size(), 2u);
  EXPECT_EQ(a->frames[0].locks[0].action, "waiting to lock");
  EXPECT_EQ(a->frames[0].locks[1].action, "locked");

  ASSERT_EQ(stacks_.deadlocks.size(), 1u);
  const Deadlock& d = stacks_.deadlocks[0];
  EXPECT_EQ(d.members, (std::vector<std::string>{"deadlock-a", "deadlock-b"}));
  EXPECT_NE(d.description.find("\"deadlock-a\": waiting to lock monitor"), std::string::npos)
      << d.description;
  EXPECT_NE(d.description.find("which is held by \"deadlock-a\""), std::string::npos);
  EXPECT_EQ(std::count(d.description.begin(), d.description.end(), '\n'), 1);
  // The deadlock's repeated stacks are not read as more threads.
  EXPECT_EQ(std::count_if(stacks_.stacks.begin(), stacks_.stacks.end(),
                          [](const RuntimeStack& s) { return s.name == "deadlock-a"; }),
            1);
}

TEST_P(ParkedDumpTest, TheTwentyWorkersFormOneGroup) {
  std::vector<StackGroup> groups = GroupStacks(stacks_);
  ASSERT_FALSE(groups.empty());
  EXPECT_EQ(groups[0].count, 20u);
  EXPECT_EQ(groups[0].state, "TIMED_WAITING");
  ASSERT_FALSE(groups[0].members.empty());
  EXPECT_TRUE(groups[0].members[0]->name.starts_with("worker-"));
  bool has_worker_frame = false;
  for (const SourceFrame& f : groups[0].frames) {
    if (f.function == "Parked.worker" && f.line == 37) has_worker_frame = true;
  }
  EXPECT_TRUE(has_worker_frame);
}

INSTANTIATE_TEST_SUITE_P(Jdks, ParkedDumpTest,
                         testing::Values(Fixture{"jdk17_parked.txt", "17.0.15+6-Debian-1deb12u1",
                                                 37, 0x723e},
                                         Fixture{"jdk25_parked.txt", "25.0.3+9-LTS", 36, 29318}),
                         [](const testing::TestParamInfo<Fixture>& param) {
                           return param.param.file.substr(0, param.param.file.find('_'));
                         });

TEST(ThreadDumpTest, LimitsOnThreadsFramesAndStringsAreKeptAndNamed) {
  const std::string text = ReadFixture("jdk17_parked.txt");
  RuntimeLimits limits;
  limits.max_stacks = 3;
  limits.max_frames = 2;
  limits.max_string_bytes = 8;
  StatusOr<RuntimeStacks> parsed = ParseThreadDump(text, limits);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->stacks.size(), 3u);
  EXPECT_EQ(parsed->total, 37u);
  for (const RuntimeStack& s : parsed->stacks) {
    EXPECT_LE(s.frames.size(), 2u);
    EXPECT_LE(s.name.size(), 8u);
    for (const SourceFrame& f : s.frames) EXPECT_LE(f.function.size(), 8u);
  }
  EXPECT_TRUE(parsed->stacks[0].frames_truncated);  // main has 5 frames
  ASSERT_EQ(parsed->problems.size(), 2u);
  EXPECT_EQ(parsed->problems[0], "jvm: only the first 3 of 37 Java threads");
  EXPECT_EQ(parsed->problems[1], "jvm: names longer than 8 bytes were cut");
}

TEST(ThreadDumpTest, ADumpPastTheByteCapIsCutAtALineAndSaysSo) {
  const std::string text = ReadFixture("jdk17_parked.txt");
  ThreadDumpLimits dump_limits;
  dump_limits.max_dump_bytes = 4000;
  StatusOr<RuntimeStacks> parsed = ParseThreadDump(text, RuntimeLimits{}, dump_limits);
  ASSERT_TRUE(parsed.ok());
  EXPECT_LT(parsed->stacks.size(), 10u);
  EXPECT_GT(parsed->stacks.size(), 0u);
  ASSERT_FALSE(parsed->problems.empty());
  EXPECT_EQ(parsed->problems[0], "jvm: thread dump cut at 4000 bytes");
}

TEST(ThreadDumpTest, LongLinesAreCut) {
  std::string text =
      "Full thread dump OpenJDK 64-Bit Server VM (17.0.1+1 mixed mode):\n\n\"t\" #1 nid=0x1\n"
      "   java.lang.Thread.State: RUNNABLE\n\tat " +
      std::string(100000, 'x') + "(X.java:1)\n";
  ThreadDumpLimits dump_limits;
  dump_limits.max_line_bytes = 100;
  StatusOr<RuntimeStacks> parsed = ParseThreadDump(text, RuntimeLimits{}, dump_limits);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->stacks.size(), 1u);
  ASSERT_EQ(parsed->stacks[0].frames.size(), 1u);
  EXPECT_LE(parsed->stacks[0].frames[0].function.size(), 100u);
  EXPECT_EQ(parsed->problems,
            (std::vector<std::string>{"jvm: lines longer than 100 bytes were cut"}));
}

TEST(ThreadDumpTest, AThreadNameWithQuotesEndsAtTheLastQuote) {
  const std::string text =
      "Full thread dump X (21.0.2+13 mixed mode):\n"
      "\"say \"hi\" #2\" #7 [99] daemon prio=5 tid=0x1 nid=99 waiting on condition\n"
      "   java.lang.Thread.State: WAITING (parking)\n"
      "\tat Foo.bar(app//Foo.java:12)\n"
      "\t- waiting on <no object reference available>\n";
  StatusOr<RuntimeStacks> parsed = ParseThreadDump(text, RuntimeLimits{});
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->stacks.size(), 1u);
  const RuntimeStack& s = parsed->stacks[0];
  EXPECT_EQ(s.name, "say \"hi\" #2");
  EXPECT_EQ(s.id, "7");
  EXPECT_EQ(s.tid, 99);
  EXPECT_EQ(s.state, "WAITING");
  ASSERT_EQ(s.frames.size(), 1u);
  EXPECT_EQ(s.frames[0].file, "Foo.java");
  EXPECT_EQ(s.frames[0].line, 12);
  ASSERT_EQ(s.frames[0].locks.size(), 1u);
  EXPECT_EQ(s.frames[0].locks[0].id, "no object reference available");
  EXPECT_EQ(s.frames[0].locks[0].class_name, "");
}

TEST(ThreadDumpTest, LockLinesPerFrameAreCappedAndSaySo) {
  std::string text =
      "Full thread dump X (21.0.2+13 mixed mode):\n\"t\" #1 nid=5\n"
      "   java.lang.Thread.State: RUNNABLE\n\tat A.b(A.java:1)\n";
  for (int i = 0; i < 100000; ++i) text += "\t- a <b>\n";
  text += "\tat A.c(A.java:2)\n\t- locked <0x1> (a java.lang.Object)\n";
  StatusOr<RuntimeStacks> parsed = ParseThreadDump(text, RuntimeLimits{});
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->stacks.size(), 1u);
  const RuntimeStack& s = parsed->stacks[0];
  ASSERT_EQ(s.frames.size(), 2u);
  EXPECT_EQ(s.frames[0].locks.size(), ThreadDumpLimits{}.max_locks_per_frame);
  ASSERT_EQ(s.frames[1].locks.size(), 1u);  // the cap is per frame
  EXPECT_EQ(s.frames[1].locks[0].id, "0x1");
  EXPECT_EQ(parsed->problems,
            (std::vector<std::string>{"jvm: frames with more than 16 lock lines were cut"}));
}

TEST(ThreadDumpTest, ANidThatIsNoThreadIdGivesNoTid) {
  for (const char* nid : {"-5", "0", "0x0", "-0x5", "0x7fffffff", "4194305", "99999999999"}) {
    const std::string text =
        std::string("Full thread dump X (21.0.2+13 mixed mode):\n\"t\" #1 nid=") + nid +
        "\n\tat A.b(A.java:1)\n";
    StatusOr<RuntimeStacks> parsed = ParseThreadDump(text, RuntimeLimits{});
    ASSERT_TRUE(parsed.ok()) << nid;
    ASSERT_EQ(parsed->stacks.size(), 1u) << nid;
    EXPECT_EQ(parsed->stacks[0].tid, std::nullopt) << nid;
  }
  for (const auto& [nid, tid] :
       {std::pair{"1", 1}, std::pair{"0x4570", 0x4570}, std::pair{"4194304", 4194304}}) {
    const std::string text =
        std::string("Full thread dump X (21.0.2+13 mixed mode):\n\"t\" #1 nid=") + nid +
        "\n\tat A.b(A.java:1)\n";
    StatusOr<RuntimeStacks> parsed = ParseThreadDump(text, RuntimeLimits{});
    ASSERT_TRUE(parsed.ok()) << nid;
    ASSERT_EQ(parsed->stacks.size(), 1u) << nid;
    EXPECT_EQ(parsed->stacks[0].tid, tid) << nid;
  }
}

TEST(ThreadDumpTest, TextWithoutTheHeaderIsNotADump) {
  EXPECT_EQ(ParseThreadDump("", RuntimeLimits{}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseThreadDump("\"main\" #1 nid=0x1\n\tat A.b(A.java:1)\n", RuntimeLimits{}).status().code(),
      StatusCode::kInvalidArgument);
}

TEST(ThreadDumpTest, GarbageAfterTheHeaderYieldsNothingAndNoCrash) {
  const std::string text =
      "Full thread dump (\n\"\n\"\"\n\"\" #\n\tat (\n\t- <\n\t- <>\nFound one Java-level "
      "deadlock:\n\"\":\n  x\n\"a\n";
  StatusOr<RuntimeStacks> parsed = ParseThreadDump(text, RuntimeLimits{});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->version, "");
  EXPECT_EQ(parsed->total, 1u);  // "\" #": a Java thread with an empty name
  ASSERT_EQ(parsed->deadlocks.size(), 1u);
  EXPECT_EQ(parsed->deadlocks[0].members, (std::vector<std::string>{""}));
}

TEST(AttachReplyTest, ZeroIsSuccessAndTheRestIsTheOutput) {
  StatusOr<std::string_view> body = SplitAttachReply("0\nFull thread dump\n");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "Full thread dump\n");
}

TEST(AttachReplyTest, ANonZeroCodeIsAnErrorWithTheJvmsMessage) {
  StatusOr<std::string_view> body =
      SplitAttachReply("-1\njava.lang.IllegalArgumentException: nope\n\tat x\n");
  EXPECT_EQ(body.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(body.status().message(),
            "jvm: attach command failed (code -1): java.lang.IllegalArgumentException: nope");
}

TEST(AttachReplyTest, AReplyWithoutAResultLineIsDataLoss) {
  EXPECT_EQ(SplitAttachReply("").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(SplitAttachReply("0").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(SplitAttachReply("ok\nx").status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ephemera::runtimes::jvm
