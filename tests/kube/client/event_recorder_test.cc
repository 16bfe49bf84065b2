// EventRecorder over RestKubeClient and scripted HTTP: Events go out in order on the budget the
// control loop leaves over, a full queue drops the oldest, refusals are reported, not retried.
#include "kube/client/event_recorder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "kube/client/rest_kube_client.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_http_transport.h"

namespace ephemera::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

EventRecord Event(const std::string& note) {
  EventRecord event;
  event.regarding = {"ephemera.dev/v1alpha1", "DebugSession", "team-a", "s", "uid-1"};
  event.reason = "Inject";
  event.action = "Inject";
  event.note = note;
  event.reporting_controller = "ephemera.dev/ephemera-controller";
  event.reporting_instance = "test";
  return event;
}

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest() {
    fake_.SetHandler([](const HttpRequest& request) {
      const json body = json::parse(request.body);
      if (body.value("note", "") == "refused") {
        return FakeReply::ApiStatus(403, "Forbidden", "events is forbidden");
      }
      return FakeReply::Json(201, body);
    });
  }

  // The notes of the Events POSTed, in order.
  std::vector<std::string> SentNotes() {
    std::vector<std::string> notes;
    for (const auto& request : fake_.Requests()) {
      notes.push_back(json::parse(request.body).value("note", ""));
    }
    return notes;
  }

  // Runs the recorder until it has nothing queued (or 10 s of real time passed), then stops it.
  void RunUntilIdle(EventRecorder& recorder) {
    std::jthread sender([&](const std::stop_token& stop) { recorder.Run(stop); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (recorder.Stats().queued > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
  }

  base::FakeClock clock_;
  FakeHttpTransport fake_;
};

TEST_F(EventRecorderTest, SendsInOrderOnlyWithTokensToSpare) {
  RestKubeClientOptions options;
  options.qps = 10;
  options.burst = 1;
  RestKubeClient client(fake_, clock_, options);
  EventRecorder recorder(client, clock_, {});
  for (const char* note : {"first", "second", "third"}) recorder.Record(Event(note));
  RunUntilIdle(recorder);

  EXPECT_EQ(SentNotes(), (std::vector<std::string>{"first", "second", "third"}));
  const EventRecorderStats stats = recorder.Stats();
  EXPECT_EQ(stats.sent, 3u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_GT(stats.deferred, 0u) << "a burst of one: later Events waited for spare tokens";
}

TEST_F(EventRecorderTest, FillsTheReportingControllerAndInstanceWhereAnEventHasNone) {
  RestKubeClient client(fake_, clock_, {});
  EventRecorderOptions recorder_options;
  recorder_options.reporting_controller = "ephemera.dev/ephemera-controller";
  recorder_options.reporting_instance = "replica-7";
  EventRecorder recorder(client, clock_, recorder_options);
  EventRecord bare = Event("bare");
  bare.reporting_controller.clear();
  bare.reporting_instance.clear();
  recorder.Record(bare);
  recorder.Record(Event("own"));  // keeps its own ("test")
  RunUntilIdle(recorder);
  ASSERT_EQ(fake_.Requests().size(), 2u);
  const json first = json::parse(fake_.Requests()[0].body);
  EXPECT_EQ(first["reportingController"], "ephemera.dev/ephemera-controller");
  EXPECT_EQ(first["reportingInstance"], "replica-7");
  EXPECT_EQ(json::parse(fake_.Requests()[1].body)["reportingInstance"], "test");
}

TEST_F(EventRecorderTest, AFullQueueDropsTheOldest) {
  RestKubeClientOptions options;
  options.qps = 0;
  RestKubeClient client(fake_, clock_, options);
  EventRecorderOptions recorder_options;
  recorder_options.max_queued = 2;
  EventRecorder recorder(client, clock_, recorder_options);
  for (const char* note : {"oldest", "newer", "newest"}) recorder.Record(Event(note));
  EXPECT_EQ(recorder.Stats().dropped, 1u);
  EXPECT_EQ(recorder.Stats().queued, 2u);
  RunUntilIdle(recorder);
  EXPECT_EQ(SentNotes(), (std::vector<std::string>{"newer", "newest"}));
}

TEST_F(EventRecorderTest, ARefusedEventIsReportedAndNotRetried) {
  RestKubeClientOptions options;
  options.qps = 0;
  RestKubeClient client(fake_, clock_, options);
  std::vector<std::string> reported;
  EventRecorderOptions recorder_options;
  recorder_options.on_error = [&](const EventRecord& event, const Status& status) {
    reported.push_back(event.note + ": " + std::string(StatusCodeName(status.code())));
  };
  EventRecorder recorder(client, clock_, recorder_options);
  recorder.Record(Event("refused"));
  recorder.Record(Event("accepted"));
  RunUntilIdle(recorder);
  EXPECT_EQ(SentNotes(), (std::vector<std::string>{"refused", "accepted"})) << "one attempt each";
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].rfind("refused: ", 0), 0u) << reported[0];
  EXPECT_EQ(recorder.Stats().sent, 1u);
  EXPECT_EQ(recorder.Stats().dropped, 1u);
}

TEST_F(EventRecorderTest, WhatIsQueuedAtStopIsCountedAsDropped) {
  RestKubeClient client(fake_, clock_, {});
  EventRecorder recorder(client, clock_, {});
  recorder.Record(Event("a"));
  recorder.Record(Event("b"));
  std::stop_source stop;
  stop.request_stop();
  recorder.Run(stop.get_token());
  EXPECT_TRUE(fake_.Requests().empty());
  EXPECT_EQ(recorder.Stats().dropped, 2u);
  EXPECT_EQ(recorder.Stats().queued, 0u);
}

}  // namespace
}  // namespace ephemera::kube
