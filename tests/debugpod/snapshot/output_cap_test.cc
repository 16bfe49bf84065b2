#include "debugpod/snapshot/output_cap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace ephemera::snapshot {
namespace {

using ::testing::HasSubstr;

// A document shaped like a capture, with `filler` bytes in each bulky section of each process.
Json BigDocument(int processes, size_t filler) {
  Json doc;
  doc["apiVersion"] = api::kSnapshotApiVersion;
  doc["processTree"] = Json::array();
  Json list = Json::array();
  for (int i = 0; i < processes; ++i) {
    Json p;
    p["pid"] = i + 1;
    p["name"] = "p" + std::to_string(i);
    p["threads"] = Json::array(
        {{{"tid", i + 1}, {"name", "t"}, {"stack", {{"frames", std::string(filler, 's')}}}}});
    p["fdCount"] = 3;
    p["fds"] = std::string(filler, 'f');
    p["sockets"] = std::string(filler, 'k');
    p["maps"] = std::string(filler * 2, 'm');
    p["env"] = std::string(filler, 'e');
    p["limits"] = std::string(filler / 4, 'l');
    p["cgroup"] = std::string(filler / 4, 'c');
    list.push_back(std::move(p));
    doc["processTree"].push_back({{"pid", i + 1}});
  }
  doc["processes"] = std::move(list);
  doc["degraded"] = Json::array();
  doc["overhead"] = {{"wallMillis", 1}};
  return doc;
}

bool Degraded(const Json& doc, std::string_view section, int pid) {
  for (const Json& d : doc["degraded"]) {
    if (d["section"] == section && d["pid"] == pid) {
      EXPECT_THAT(d["reason"].get<std::string>(), HasSubstr("output cap"));
      return true;
    }
  }
  return false;
}

TEST(FitToOutputCapTest, SmallDocumentIsUnchanged) {
  Json doc = BigDocument(1, 10);
  Json before = doc;
  std::string text = FitToOutputCap(doc, 1 << 20);
  EXPECT_EQ(doc, before);
  EXPECT_EQ(text, doc.dump());
}

TEST(FitToOutputCapTest, DropsMapsFirstAndSaysSo) {
  Json doc = BigDocument(2, 10000);
  size_t full = doc.dump().size();
  std::string text = FitToOutputCap(doc, full - 15000);
  EXPECT_LE(text.size(), full - 15000);
  EXPECT_EQ(text, doc.dump());
  EXPECT_FALSE(doc["processes"][0].contains("maps"));
  EXPECT_TRUE(Degraded(doc, "maps", 1));
  EXPECT_TRUE(doc["processes"][0].contains("threads"));
  EXPECT_TRUE(doc["processes"][0]["threads"][0].contains("stack"));
  EXPECT_TRUE(doc["processes"][1].contains("fds"));
}

TEST(FitToOutputCapTest, DropsStacksBeforeThreadsAndProcessesLast) {
  Json doc = BigDocument(3, 10000);
  std::string text = FitToOutputCap(doc, 20000);
  EXPECT_LE(text.size(), 20000u);
  EXPECT_TRUE(Degraded(doc, "fds", 1));
  EXPECT_TRUE(Degraded(doc, "env", 2));
  // The main process (first entry) is never dropped.
  ASSERT_GE(doc["processes"].size(), 1u);
  EXPECT_EQ(doc["processes"][0]["pid"], 1);
  EXPECT_TRUE(doc["processes"][0]["threads"].size() == 1u || Degraded(doc, "threads", 1));
}

TEST(FitToOutputCapTest, DropsWholeProcessesWhenSectionsAreNotEnough) {
  Json doc = BigDocument(200, 10);
  std::string text = FitToOutputCap(doc, std::size_t{16} * 1024);
  EXPECT_LE(text.size(), 16u * 1024);
  EXPECT_EQ(doc["processes"][0]["pid"], 1);
  EXPECT_LT(doc["processes"].size(), 200u);
  EXPECT_EQ(Json::parse(text), doc);
}

// A degraded entry without a pid (the evidence's) whose reason ends with `part`.
bool EvidenceDropped(const Json& doc, std::string_view section, std::string_view part) {
  for (const Json& d : doc["degraded"]) {
    const std::string reason = d["reason"];
    if (d["section"] == section && !d.contains("pid") && reason.find("output cap") == 0 &&
        reason.ends_with("(evidence." + std::string(part) + ")")) {
      return true;
    }
  }
  return false;
}

TEST(FitToOutputCapTest, BlockedThreadsGoWithTheThreads) {
  Json doc = BigDocument(1, 10000);
  doc["processes"][0]["blockedThreads"] = Json::array({{{"tid", 1}, {"name", "t"}}});
  doc["processes"][0]["threads"][0]["name"] = std::string(20000, 't');
  std::string text = FitToOutputCap(doc, 8000);
  EXPECT_LE(text.size(), 8000u);
  EXPECT_TRUE(Degraded(doc, "threads", 1));
  EXPECT_FALSE(doc["processes"][0].contains("blockedThreads"));
}

TEST(FitToOutputCapTest, KeepsTheEvidenceWhileProcessSectionsCanGo) {
  Json doc = BigDocument(3, 10000);
  doc["evidence"] = {{"network", {{"listeners", std::string(2000, 'n')}}},
                     {"pressure", {{"source", "cgroup"}}},
                     {"memory", {{"errors", Json::array()}}}};
  std::string text = FitToOutputCap(doc, 20000);
  EXPECT_LE(text.size(), 20000u);
  EXPECT_TRUE(Degraded(doc, "maps", 1));
  EXPECT_TRUE(doc["evidence"].contains("network"));
  EXPECT_TRUE(doc["evidence"].contains("memory"));
}

TEST(FitToOutputCapTest, DropsTheEvidenceLastPartByPart) {
  Json doc = BigDocument(2, 100);
  doc["evidence"] = {{"network", {{"listeners", std::string(6000, 'n')}}},
                     {"pressure", {{"source", "cgroup"}}},
                     {"memory", {{"errors", Json::array()}}}};
  std::string text = FitToOutputCap(doc, 4000);
  EXPECT_LE(text.size(), 4000u);
  EXPECT_EQ(doc["processes"].size(), 1u);
  EXPECT_TRUE(EvidenceDropped(doc, "sockets", "network")) << doc["degraded"].dump();
  EXPECT_FALSE(EvidenceDropped(doc, "cgroup", "pressure"));  // dropping network was enough
  EXPECT_TRUE(doc["evidence"].contains("pressure"));
  EXPECT_TRUE(doc["evidence"].contains("memory"));
  EXPECT_EQ(Json::parse(text), doc);
}

TEST(FitToOutputCapTest, CutsAnOverlongDegradedList) {
  Json doc = BigDocument(1, 10);
  for (int i = 0; i < 2000; ++i) {
    doc["degraded"].push_back({{"section", "env"}, {"pid", i}, {"reason", "EACCES: open ..."}});
  }
  std::string text = FitToOutputCap(doc, std::size_t{16} * 1024);
  EXPECT_LE(text.size(), 16u * 1024);
  const Json& last = doc["degraded"].back();
  EXPECT_EQ(last["section"], "*");
  EXPECT_THAT(last["reason"].get<std::string>(), HasSubstr("further degraded entries left out"));
}

TEST(FitToOutputCapTest, InvalidUtf8IsReplacedNotFatal) {
  Json doc = BigDocument(1, 10);
  doc["processes"][0]["name"] = std::string("bad\xff\xfe", 5);
  std::string text = FitToOutputCap(doc, 1 << 20);
  EXPECT_THAT(text, HasSubstr("bad\xEF\xBF\xBD"));
}

}  // namespace
}  // namespace ephemera::snapshot
