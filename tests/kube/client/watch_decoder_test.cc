#include "kube/client/watch_decoder.h"

#include <gtest/gtest.h>

namespace ephemera::kube {
namespace {

// Four events as kube-apiserver writes them (one per line), with strings holding braces, quotes,
// escapes and multi-byte UTF-8, to catch framing that is not string-aware.
const std::string kStream =
    R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"10"},"note":"{not a brace} \"quoted\" \\ back\\slash"}})"
    "\n"
    R"({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"11"},"spec":{"list":[1,[2,{"x":"]"}]],"text":"héllo ✓ 🚀"}}})"
    "\n"
    R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12"}}})"
    "\r\n  "
    R"({"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"13"}}})"
    "\n";

void ExpectTheFourEvents(const std::vector<WatchEvent>& events, const std::string& context) {
  ASSERT_EQ(events.size(), 4u) << context;
  EXPECT_EQ(events[0].type, WatchEventType::kAdded) << context;
  EXPECT_EQ(events[0].object["note"], "{not a brace} \"quoted\" \\ back\\slash") << context;
  EXPECT_EQ(events[1].type, WatchEventType::kModified) << context;
  EXPECT_EQ(events[1].object["spec"]["text"], "héllo ✓ 🚀") << context;
  EXPECT_EQ(events[2].type, WatchEventType::kBookmark) << context;
  EXPECT_EQ(events[2].ResourceVersion(), "12") << context;
  EXPECT_EQ(events[3].type, WatchEventType::kDeleted) << context;
  EXPECT_EQ(events[3].ResourceVersion(), "13") << context;
}

TEST(WatchStreamDecoderTest, DecodesWholeStream) {
  WatchStreamDecoder decoder;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder.Feed(kStream, &events).ok());
  ExpectTheFourEvents(events, "whole");
  EXPECT_FALSE(decoder.HasPartialEvent());
}

TEST(WatchStreamDecoderTest, SplitAtEveryByteBoundaryGivesSameEvents) {
  for (std::size_t split = 0; split <= kStream.size(); ++split) {
    WatchStreamDecoder decoder;
    std::vector<WatchEvent> events;
    ASSERT_TRUE(decoder.Feed(std::string_view(kStream).substr(0, split), &events).ok());
    ASSERT_TRUE(decoder.Feed(std::string_view(kStream).substr(split), &events).ok());
    ExpectTheFourEvents(events, "split at " + std::to_string(split));
    EXPECT_FALSE(decoder.HasPartialEvent());
  }
}

TEST(WatchStreamDecoderTest, SplitTwiceAtEveryPairInsideOneEvent) {
  // Every pair of cut points within the first two events (three chunks each time).
  const std::size_t limit = kStream.find("BOOKMARK");
  for (std::size_t a = 0; a < limit; a += 3) {
    for (std::size_t b = a; b < limit; b += 5) {
      WatchStreamDecoder decoder;
      std::vector<WatchEvent> events;
      const std::string_view s(kStream);
      ASSERT_TRUE(decoder.Feed(s.substr(0, a), &events).ok());
      ASSERT_TRUE(decoder.Feed(s.substr(a, b - a), &events).ok());
      ASSERT_TRUE(decoder.Feed(s.substr(b), &events).ok());
      ExpectTheFourEvents(events, "cuts " + std::to_string(a) + "," + std::to_string(b));
    }
  }
}

TEST(WatchStreamDecoderTest, OneByteAtATime) {
  WatchStreamDecoder decoder;
  std::vector<WatchEvent> events;
  for (char c : kStream) {
    ASSERT_TRUE(decoder.Feed(std::string_view(&c, 1), &events).ok());
  }
  ExpectTheFourEvents(events, "bytewise");
}

TEST(WatchStreamDecoderTest, ReportsPartialEvent) {
  WatchStreamDecoder decoder;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder.Feed(R"({"type":"ADDED","object":{"metadata":{)", &events).ok());
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(decoder.HasPartialEvent());
}

TEST(WatchStreamDecoderTest, DecodesErrorEventWithStatusObject) {
  WatchStreamDecoder decoder;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(
      decoder
          .Feed(R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1",)"
                R"json("status":"Failure","message":"too old resource version: 123 (456)",)json"
                R"("reason":"Expired","code":410}})",
                &events)
          .ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, WatchEventType::kError);
  EXPECT_EQ(events[0].object["code"], 410);
}

TEST(WatchStreamDecoderTest, OversizeEventFailsAfterDeliveringEarlierOnes) {
  WatchStreamDecoder decoder({.max_event_bytes = 120, .max_depth = 64});
  std::vector<WatchEvent> events;
  const std::string small = R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}}})";
  const std::string big = R"({"type":"ADDED","object":{"data":")" + std::string(500, 'x') + "\"}}";
  Status status = decoder.Feed(small + "\n" + big.substr(0, 60), &events);
  ASSERT_TRUE(status.ok());
  status = decoder.Feed(big.substr(60), &events);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("120 bytes"), std::string::npos);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].ResourceVersion(), "1");
  // The decoder stays failed.
  EXPECT_EQ(decoder.Feed(small, &events).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(events.size(), 1u);
}

TEST(WatchStreamDecoderTest, RejectsDeepNesting) {
  WatchStreamDecoder decoder({.max_event_bytes = 1 << 20, .max_depth = 10});
  std::vector<WatchEvent> events;
  const std::string deep = R"({"type":"ADDED","object":{"a":)" + std::string(20, '[');
  EXPECT_EQ(decoder.Feed(deep, &events).code(), StatusCode::kResourceExhausted);
}

TEST(WatchStreamDecoderTest, RejectsBytesBetweenEvents) {
  WatchStreamDecoder decoder;
  std::vector<WatchEvent> events;
  const Status status = decoder.Feed("<html>502 Bad Gateway</html>", &events);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("0x3c"), std::string::npos);
}

TEST(WatchStreamDecoderTest, RejectsMalformedJsonAndUnknownTypes) {
  std::vector<WatchEvent> events;
  WatchStreamDecoder a;
  EXPECT_EQ(a.Feed(R"({"type":"ADDED","object":{},})", &events).code(), StatusCode::kDataLoss);
  WatchStreamDecoder b;
  EXPECT_EQ(b.Feed(R"({"type":"SNAPSHOT","object":{}})", &events).code(), StatusCode::kDataLoss);
  WatchStreamDecoder c;
  EXPECT_EQ(c.Feed(R"({"type":"ADDED"})", &events).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace ephemera::kube
