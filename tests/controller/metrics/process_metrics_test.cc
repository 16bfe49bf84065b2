#include "controller/metrics/process_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace ephemera::metrics {
namespace {

// The value of the unlabelled sample `name` in rendered metrics; -1 when it is not there.
double Sample(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

TEST(ProcessMetricsTest, ParsesStatWhateverTheCommandName) {
  // proc(5): pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss ...
  const std::string line =
      "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 900 0 3 0 150 25 0 0 20 0 7 0 12345 "
      "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto stat = ParseProcessStat(line);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->user_ticks, 150u);
  EXPECT_EQ(stat->system_ticks, 25u);
  EXPECT_EQ(stat->start_ticks, 12345u);
  EXPECT_EQ(stat->virtual_bytes, 104857600u);
  EXPECT_EQ(stat->resident_pages, 2560);
  EXPECT_FALSE(ParseProcessStat("4242 (cut) S 1 2 3").has_value());
  EXPECT_FALSE(ParseProcessStat("no parenthesis at all").has_value());
  EXPECT_FALSE(ParseProcessStat(line.substr(0, line.find("12345")) + "x 1 2\n").has_value());
}

TEST(ProcessMetricsTest, ParsesTheBootTime) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nctxt 99\nbtime 1765000000\nprocesses 7\n"), 1765000000);
  EXPECT_FALSE(ParseBootTime("cpu  1 2 3\n").has_value());
  EXPECT_FALSE(ParseBootTime("btime soon\n").has_value());
}

// This test process, read through /proc as /metrics would read the controller.
TEST(ProcessMetricsTest, RendersThisProcessUnprefixed) {
  Registry registry;  // "ephemera_" prefix: these names must not get it
  RegisterProcessMetrics(registry);
  volatile double spin = 0;
  for (int i = 0; i < 20'000'000; ++i) spin = spin + i;  // some CPU time to see
  const std::string text = "\n" + registry.RenderPrometheusText();
  EXPECT_EQ(text.find("ephemera_process"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos) << text;
  EXPECT_GT(Sample(text, "process_cpu_seconds_total"), 0) << text;
  EXPECT_GT(Sample(text, "process_resident_memory_bytes"), 1 << 20) << text;
  EXPECT_GT(Sample(text, "process_virtual_memory_bytes"),
            Sample(text, "process_resident_memory_bytes"));
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double started = Sample(text, "process_start_time_seconds");
  EXPECT_LE(started, now + 1) << text;
  EXPECT_GT(started, now - 24 * 3600) << "this test started within the day: " << text;
  // stdin, stdout and stderr at least, and not the directory read to count them.
  const double open = Sample(text, "process_open_fds");
  EXPECT_GE(open, 3) << text;
  const int extra = ::dup(1);
  EXPECT_EQ(Sample("\n" + registry.RenderPrometheusText(), "process_open_fds"), open + 1);
  ::close(extra);
  EXPECT_GE(Sample(text, "process_max_fds"), open);
}

}  // namespace
}  // namespace ephemera::metrics
