// The commands end to end over an in-memory API (FakeKubeClient) and a fake clock: what the person
// sees on stdout and stderr, and the exit code, for snapshot, fetch, get and list.
#include "cli/commands/commands.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/anchor.h"
#include "audit/audit_log.h"
#include "base/hash.h"
#include "cli/commands/delivery.h"
#include "cli/identity/identity_file.h"
#include "envelope/envelope.h"
#include "kube/object/resource.h"
#include "tests/audit/fake_audit_sink.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::commands {
namespace {

namespace fs = std::filesystem;
using command_line::ExitCode;
using nlohmann::json;

constexpr const char* kNamespace = "shop";

// The store, plus a session that moves one scripted status per Get or watch of it (as a
// controller would between two reads, 0.1 s apart on the clock), and generateName as the API
// server does it. A watch of a session with no step left lasts its timeout, then closes.
class ScriptedApi final : public kube::KubeClient {
 public:
  ScriptedApi(kube::FakeKubeClient& store, base::FakeClock& clock) : store_(store), clock_(clock) {}

  std::vector<json> steps;  // statuses, applied one per Get or watch of a session
  void Script(std::vector<json> statuses) {
    steps = std::move(statuses);
    next_ = 0;
  }
  bool watch_forbidden = false;  // watches of sessions fail with 403, as for a role without watch
  bool delete_on_watch = false;  // the next watch of a session sees it deleted
  int watches = 0;
  int gets = 0;

  StatusOr<json> Get(const kube::GroupVersionResource& gvr, const kube::ObjectKey& key,
                     const kube::GetOptions& options) override {
    if (gvr.resource == "debugsessions") {
      ++gets;
      NextStep(gvr, key);
    }
    return store_.Get(gvr, key, options);
  }
  StatusOr<kube::ListResult> List(const kube::GroupVersionResource& gvr,
                                  std::string_view namespace_name,
                                  const kube::ListOptions& options) override {
    return store_.List(gvr, namespace_name, options);
  }
  kube::WatchResult Watch(const kube::GroupVersionResource& gvr, std::string_view namespace_name,
                          const kube::WatchOptions& options, const kube::WatchHandler& handler,
                          std::stop_token stop) override {
    if (gvr.resource != "debugsessions") {
      return store_.Watch(gvr, namespace_name, options, handler, std::move(stop));
    }
    ++watches;
    kube::WatchResult result;
    if (watch_forbidden) {
      result.end = kube::WatchEnd::kError;
      result.error = kube::ApiError(403, "Forbidden", "cannot watch debugsessions");
      return result;
    }
    const std::string prefix = "metadata.name=";
    EXPECT_EQ(options.field_selector.rfind(prefix, 0), 0u) << options.field_selector;
    const kube::ObjectKey key{std::string(namespace_name),
                              options.field_selector.substr(prefix.size())};
    if (delete_on_watch) {
      auto gone = store_.GetObject(gvr, key);
      store_.RemoveObject(gvr, key);
      handler(kube::DeletedEvent(gone.value_or(json::object())));
      result.end = kube::WatchEnd::kStopped;
      return result;
    }
    if (NextStep(gvr, key)) {
      handler(kube::ModifiedEvent(*store_.GetObject(gvr, key)));
      result.end = stop.stop_requested() ? kube::WatchEnd::kStopped : kube::WatchEnd::kClosed;
    } else {
      clock_.Advance(options.timeout.value_or(std::chrono::seconds(300)));
    }
    return result;
  }
  StatusOr<json> Create(const kube::GroupVersionResource& gvr, std::string_view namespace_name,
                        const json& object, const kube::WriteOptions& options) override {
    json named = object;
    if (!named["metadata"].contains("name")) {
      named["metadata"]["name"] = named["metadata"].value("generateName", "") + "x4k2p";
    }
    named["metadata"]["uid"] = "uid-1";
    return store_.Create(gvr, namespace_name, named, options);
  }
  StatusOr<json> Update(const kube::GroupVersionResource& gvr, const kube::ObjectKey& key,
                        const json& object, const kube::WriteOptions& options) override {
    return store_.Update(gvr, key, object, options);
  }
  StatusOr<json> Patch(const kube::GroupVersionResource& gvr, const kube::ObjectKey& key,
                       kube::PatchType type, const json& patch,
                       const kube::PatchOptions& options) override {
    return store_.Patch(gvr, key, type, patch, options);
  }
  Status Delete(const kube::GroupVersionResource& gvr, const kube::ObjectKey& key,
                const kube::DeleteOptions& options) override {
    return store_.Delete(gvr, key, options);
  }
  StatusOr<std::string> GetPodLog(const kube::ObjectKey& pod,
                                  const kube::PodLogOptions& options) override {
    return store_.GetPodLog(pod, options);
  }

 private:
  // Applies the next scripted status to the session 0.1 s after the last; whether there was one.
  bool NextStep(const kube::GroupVersionResource& gvr, const kube::ObjectKey& key) {
    if (next_ >= steps.size()) return false;
    auto current = store_.GetObject(gvr, key);
    if (!current) return false;
    clock_.Advance(std::chrono::milliseconds(100));
    (*current)["status"] = steps[next_++];
    store_.PutObject(gvr, *current);
    return true;
  }

  kube::FakeKubeClient& store_;
  base::FakeClock& clock_;
  std::size_t next_ = 0;
};

json Condition(const std::string& type, const std::string& status) {
  return {{"type", type}, {"status", status}, {"reason", type}, {"message", ""}};
}

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ephemera-commands-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    identity_path_ = (dir_ / "identity.txt").string();
    std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/report/minimal.json");
    document_ = std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    ASSERT_FALSE(document_.empty());
    store_.PutObject(kube::PodsResource(),
                     json::parse(R"({"metadata": {"name": "checkout-7d9f", "namespace": "shop"},
                                     "spec": {"containers": [{"name": "app"}]}})"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    Io io{in_,
          out_,
          err_,
          [this](const std::string& name) -> std::optional<std::string> {
            if (name == "EPHEMERA_IDENTITY") return identity_path_;
            return std::nullopt;
          },
          clock_,
          [this](const command_line::GlobalOptions&) -> OutcomeOr<std::unique_ptr<Cluster>> {
            return Cluster::Borrowing(api_, kNamespace, "https://fake:6443");
          }};
    return RunCommandLine(args, io);
  }

  std::string Recipient() {
    auto ensured = identity::EnsureIdentity(identity_path_, clock_.Now());
    EXPECT_TRUE(ensured.ok());
    return ensured.ok() ? ensured->identity.Recipient() : "";
  }

  // The DebugSnapshot the controller would deliver for `session`, sealed to `recipient`.
  void DeliverSnapshot(const std::string& name, const std::string& recipient) {
    DeliverDocument(name, recipient, document_);
  }
  void DeliverDocument(const std::string& name, const std::string& recipient,
                       const std::string& document) {
    auto sealed = envelope::Seal(document, {recipient});
    ASSERT_TRUE(sealed.ok());
    store_.PutObject(kube::DebugSnapshotsResource(),
                     {{"metadata", {{"name", name}, {"namespace", kNamespace}}},
                      {"spec",
                       {{"session", name},
                        {"recipients", {recipient}},
                        {"ciphertext", *sealed},
                        {"sha256", base::Sha256Hex(*sealed)},
                        {"bytes", sealed->size()},
                        {"capturedAt", "2026-01-01T00:00:01Z"}}}});
  }

  json CompletedStatus(const std::string& name, const std::string& sha) {
    return {{"phase", "Completed"},
            {"message", "Snapshot delivered as DebugSnapshot " + name},
            {"expiresAt", "2026-01-01T00:05:00Z"},
            {"ephemeralContainer", "ephemera-3f9a1c0b7e"},
            {"conditions", {Condition("Authorized", "True"), Condition("Injected", "True")}},
            {"snapshot", {{"name", name}, {"sha256", sha}}}};
  }

  // A Completed session named `name` with its snapshot, as `fetch` finds it.
  void PutCompletedSession(const std::string& name, const std::string& recipient) {
    DeliverSnapshot(name, recipient);
    auto snapshot = store_.GetObject(kube::DebugSnapshotsResource(), {kNamespace, name});
    store_.PutObject(
        kube::DebugSessionsResource(),
        {{"metadata", {{"name", name}, {"namespace", kNamespace}}},
         {"spec",
          {{"target", {{"pod", "checkout-7d9f"}, {"container", "app"}}},
           {"reason", "INC-1234 checkout returns 500"},
           {"requestedBy", {{"username", "alice"}}}}},
         {"status", CompletedStatus(name, (*snapshot)["spec"]["sha256"].get<std::string>())}});
  }

  fs::path dir_;
  std::string identity_path_;
  std::string document_;
  kube::FakeKubeClient store_;
  base::FakeClock clock_;
  ScriptedApi api_{store_, clock_};
  std::istringstream in_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CommandsTest, SnapshotShowsEachStepThenPrintsTheReport) {
  api_.steps = {
      {{"phase", "Pending"}, {"conditions", {Condition("Authorized", "True")}}},
      {{"phase", "Injecting"}, {"conditions", {Condition("Authorized", "True")}}},
      {{"phase", "Capturing"}, {"ephemeralContainer", "ephemera-3f9a1c0b7e"}},
  };
  // The snapshot is in place before the session says Completed, as the controller does it.
  const std::string recipient = Recipient();
  DeliverSnapshot("checkout-7d9f-x4k2p", recipient);
  const std::string sha = (*store_.GetObject(
      kube::DebugSnapshotsResource(), {kNamespace, "checkout-7d9f-x4k2p"}))["spec"]["sha256"];
  api_.steps.push_back(CompletedStatus("checkout-7d9f-x4k2p", sha));

  const int code =
      Run({"snapshot", "checkout-7d9f", "-c", "app", "--reason", "INC-1234 checkout returns 500"});
  EXPECT_EQ(code, 0) << err_.str();
  const std::string err = err_.str();
  for (const char* step :
       {"Created DebugSession checkout-7d9f-x4k2p in namespace shop for pod checkout-7d9f",
        "[0.1s] Authorized", "[0.2s] Injecting ephemeral container into pod checkout-7d9f",
        "[0.3s] Capturing in ephemera-3f9a1c0b7e …", "Completed in 0.4s"}) {
    EXPECT_NE(err.find(step), std::string::npos) << step << "\nin:\n" << err;
  }
  EXPECT_NE(out_.str().find("checkout-7d9f-x4k2p"), std::string::npos) << out_.str();
  EXPECT_EQ(err.find("AGE-SECRET-KEY"), std::string::npos);

  // The session asked for: generateName from the pod, only the user's recipient.
  auto created =
      store_.GetObject(kube::DebugSessionsResource(), {kNamespace, "checkout-7d9f-x4k2p"});
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ((*created)["metadata"]["generateName"], "checkout-7d9f-");
  EXPECT_EQ((*created)["spec"]["recipients"], json::array({recipient}));
}

// Each step comes from a watch of the session alone, not from reading it again and again; a
// role without watch on debugsessions still gets every step, by reading.
TEST_F(CommandsTest, SnapshotWatchesTheSessionAndReadsItWhenWatchIsForbidden) {
  const std::string recipient = Recipient();
  DeliverSnapshot("checkout-7d9f-x4k2p", recipient);
  const std::string sha = (*store_.GetObject(
      kube::DebugSnapshotsResource(), {kNamespace, "checkout-7d9f-x4k2p"}))["spec"]["sha256"];
  const std::vector<json> steps = {
      {{"phase", "Pending"}, {"conditions", {Condition("Authorized", "True")}}},
      {{"phase", "Capturing"}, {"ephemeralContainer", "ephemera-3f9a1c0b7e"}},
      CompletedStatus("checkout-7d9f-x4k2p", sha)};
  api_.steps = steps;
  ASSERT_EQ(Run({"snapshot", "checkout-7d9f", "--reason", "INC-1234 checkout returns 500"}), 0)
      << err_.str();
  EXPECT_EQ(api_.watches, 3);
  EXPECT_EQ(api_.gets, 0) << "the session was read although it was watched";

  store_.RemoveObject(kube::DebugSessionsResource(), {kNamespace, "checkout-7d9f-x4k2p"});
  api_.Script(steps);
  api_.watch_forbidden = true;
  api_.watches = 0;
  ASSERT_EQ(Run({"snapshot", "checkout-7d9f", "--reason", "INC-1234 checkout returns 500"}), 0)
      << err_.str();
  EXPECT_EQ(api_.watches, 1) << "a forbidden watch is not tried again";
  EXPECT_GE(api_.gets, 3);
  EXPECT_NE(err_.str().find("Completed in"), std::string::npos) << err_.str();
}

// Someone deletes the session while the plugin follows it: it stops at once and says so.
TEST_F(CommandsTest, SnapshotEndsWhenTheSessionIsDeletedWhileItRuns) {
  api_.delete_on_watch = true;
  const int code = Run({"snapshot", "checkout-7d9f", "--reason", "INC-1234 checkout returns 500"});
  EXPECT_EQ(code, static_cast<int>(ExitCode::kNotFound)) << err_.str();
  EXPECT_NE(err_.str().find("session checkout-7d9f-x4k2p was deleted while it ran"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(api_.watches, 1);
}

// The session that `snapshot` or `logs` creates moves to Completed with a snapshot of `document`.
void ScriptCompletedSession(ScriptedApi& api, const std::string& name, const std::string& sha) {
  api.steps = {{{"phase", "Pending"}, {"conditions", {Condition("Authorized", "True")}}},
               {{"phase", "Capturing"}, {"ephemeralContainer", "ephemera-3f9a1c0b7e"}},
               {{"phase", "Completed"},
                {"expiresAt", "2026-01-01T00:05:00Z"},
                {"snapshot", {{"name", name}, {"sha256", sha}}}}};
}

std::string Testdata(const std::string& path) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/" + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(CommandsTest, LogsAsksForALogPullAndPrintsTheLinesLikeKubectlLogs) {
  const std::string name = "checkout-7d9f-x4k2p";
  DeliverDocument(name, Recipient(), Testdata("logs/crashloop.json"));
  ScriptCompletedSession(
      api_, name,
      (*store_.GetObject(kube::DebugSnapshotsResource(), {kNamespace, name}))["spec"]["sha256"]);

  const int code = Run({"logs", "checkout-7d9f", "-c", "app", "--tail", "50", "--no-previous",
                        "--reason", "INC-1234 checkout crashes"});
  EXPECT_EQ(code, 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "allocating cache for user [REDACTED:email]\n"
            "out of memory\n"
            "listening on :8080\n"
            "GET /pay 500 token=[REDACTED:key-value]\n"
            "\\x1B[31mpanic\\x1B[0m in \\u009B2J handler \\u202Eevil\n");
  const std::string err = err_.str();
  for (const char* line :
       {"Created DebugSession checkout-7d9f-x4k2p in namespace shop for pod checkout-7d9f",
        "Completed in 0.3s\n== previous instance (restart count 3; exited 137, signal 9, "
        "OOMKilled, at 2026-12-06T17:57:00Z) ==\n== current instance (restart count 3) ==\n"}) {
    EXPECT_NE(err.find(line), std::string::npos) << line << "\nin:\n" << err;
  }

  auto created = store_.GetObject(kube::DebugSessionsResource(), {kNamespace, name});
  ASSERT_TRUE(created.has_value());
  const json& spec = (*created)["spec"];
  EXPECT_EQ(spec["capture"], json::array({"logs"}));
  EXPECT_EQ(spec["logs"], json::parse(R"({"tailLines": 50, "previous": false})"));
  EXPECT_EQ(spec["reason"], "INC-1234 checkout crashes");
  EXPECT_FALSE(spec.contains("ttl")) << "no --ttl: the cluster policy's defaultTtl applies";
  EXPECT_EQ(spec["profile"], "restricted");
}

TEST_F(CommandsTest, LogsJsonPrintsTheLogsSection) {
  const std::string name = "checkout-7d9f-x4k2p";
  const std::string document = Testdata("logs/crashloop.json");
  DeliverDocument(name, Recipient(), document);
  ScriptCompletedSession(
      api_, name,
      (*store_.GetObject(kube::DebugSnapshotsResource(), {kNamespace, name}))["spec"]["sha256"]);
  ASSERT_EQ(Run({"logs", "checkout-7d9f", "-o", "json", "--reason", "INC-1234 checkout crashes"}),
            0)
      << err_.str();
  EXPECT_EQ(json::parse(out_.str()), json::parse(document)["logs"]);
  EXPECT_EQ(err_.str().find("== "), std::string::npos) << "no headers with -o json";
}

TEST_F(CommandsTest, LogsOfASnapshotWithoutTheSectionFails) {
  const std::string name = "checkout-7d9f-x4k2p";
  DeliverSnapshot(name, Recipient());  // minimal.json: no logs section
  ScriptCompletedSession(
      api_, name,
      (*store_.GetObject(kube::DebugSnapshotsResource(), {kNamespace, name}))["spec"]["sha256"]);
  EXPECT_EQ(Run({"logs", "checkout-7d9f", "--reason", "INC-1234 checkout crashes"}),
            static_cast<int>(ExitCode::kFailed));
  EXPECT_NE(err_.str().find("error: the snapshot has no logs section"), std::string::npos)
      << err_.str();
  EXPECT_TRUE(out_.str().empty());
}

TEST_F(CommandsTest, LogsEndsWithTheDenialReason) {
  api_.steps = {{{"phase", "Denied"}, {"message", "alice may not get pods/log in namespace shop"}}};
  EXPECT_EQ(Run({"logs", "checkout-7d9f", "--reason", "INC-1234 checkout crashes"}),
            static_cast<int>(ExitCode::kDenied));
  EXPECT_NE(err_.str().find("was denied: alice may not get pods/log"), std::string::npos)
      << err_.str();
  EXPECT_TRUE(out_.str().empty());
}

TEST_F(CommandsTest, SnapshotSendsTheLogBoundsItWasGiven) {
  api_.steps = {{{"phase", "Denied"}, {"message", "stop here"}}};
  Run({"snapshot", "checkout-7d9f", "--capture", "process,logs", "--since", "10m", "--limit-bytes",
       "4096", "--reason", "INC-1234 checkout returns 500"});
  auto created =
      store_.GetObject(kube::DebugSessionsResource(), {kNamespace, "checkout-7d9f-x4k2p"});
  ASSERT_TRUE(created.has_value()) << err_.str();
  EXPECT_EQ((*created)["spec"]["capture"], json::array({"process", "logs"}));
  EXPECT_EQ((*created)["spec"]["logs"], json::parse(R"({"since": "10m", "limitBytes": 4096})"));
}

TEST_F(CommandsTest, SnapshotEndsWithTheDenialReason) {
  api_.steps = {{{"phase", "Denied"}, {"message", "alice may not use debugprofiles/ptrace"}}};
  const int code = Run({"snapshot", "checkout-7d9f", "--profile", "ptrace", "--reason",
                        "INC-1234 checkout returns 500"});
  EXPECT_EQ(code, static_cast<int>(ExitCode::kDenied));
  EXPECT_NE(err_.str().find("Denied after 0.1s: alice may not use debugprofiles/ptrace"),
            std::string::npos)
      << err_.str();
  EXPECT_NE(err_.str().find("error: session checkout-7d9f-x4k2p was denied: alice may not use"),
            std::string::npos)
      << err_.str();
}

TEST_F(CommandsTest, SnapshotTimesOutWithAHintWhenNoControllerAnswers) {
  const int code = Run({"snapshot", "checkout-7d9f", "--timeout", "30s", "--reason",
                        "INC-1234 checkout returns 500"});
  EXPECT_EQ(code, static_cast<int>(ExitCode::kTimedOut));
  EXPECT_NE(err_.str().find("is ephemera-controller running"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("did not finish within 30.0s (phase Pending)"), std::string::npos)
      << err_.str();
}

TEST_F(CommandsTest, SnapshotOfAMissingPodOrContainerFailsBeforeCreatingAnything) {
  EXPECT_EQ(Run({"snapshot", "nope", "--reason", "INC-1234 checkout returns 500"}),
            static_cast<int>(ExitCode::kNotFound));
  EXPECT_NE(err_.str().find("pod nope not found in namespace shop"), std::string::npos);
  EXPECT_EQ(Run({"snapshot", "checkout-7d9f", "-c", "db", "--reason", "INC-1234 checkout 500"}),
            static_cast<int>(ExitCode::kNotFound));
  EXPECT_NE(err_.str().find("has no container db (it has: app)"), std::string::npos);
  EXPECT_EQ(store_.CallCount(kube::FakeMethod::kCreate), 0);
}

TEST_F(CommandsTest, FetchWritesJsonToAPrivateFile) {
  PutCompletedSession("s1", Recipient());
  const std::string file = (dir_ / "report.json").string();
  ASSERT_EQ(Run({"fetch", "s1", "-o", "json", "-f", file}), 0) << err_.str();
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::ifstream in(file);
  EXPECT_EQ(json::parse(in), json::parse(document_));
  EXPECT_TRUE(out_.str().empty());
}

TEST_F(CommandsTest, FetchRefusesATamperedCiphertext) {
  PutCompletedSession("s1", Recipient());
  auto snapshot = *store_.GetObject(kube::DebugSnapshotsResource(), {kNamespace, "s1"});
  auto other = envelope::Seal(document_, {Recipient()});
  ASSERT_TRUE(other.ok());
  snapshot["spec"]["ciphertext"] = *other;  // decryptable, but not what was delivered
  store_.PutObject(kube::DebugSnapshotsResource(), snapshot);
  EXPECT_EQ(Run({"fetch", "s1"}), static_cast<int>(ExitCode::kFailed));
  EXPECT_NE(err_.str().find("does not match its digest"), std::string::npos) << err_.str();
  EXPECT_TRUE(out_.str().empty());
}

TEST_F(CommandsTest, FetchWithAnotherIdentityNamesBothRecipients) {
  auto someone_else = envelope::GenerateIdentity();
  ASSERT_TRUE(someone_else.ok());
  PutCompletedSession("s1", someone_else->recipient);
  const std::string mine = Recipient();
  EXPECT_EQ(Run({"fetch", "s1"}), static_cast<int>(ExitCode::kIdentity));
  EXPECT_NE(err_.str().find("this snapshot is encrypted to " + someone_else->recipient +
                            ", your identity is " + mine),
            std::string::npos)
      << err_.str();
}

TEST_F(CommandsTest, FetchWithoutIdentitySaysWhichOneItNeeds) {
  auto someone = envelope::GenerateIdentity();
  ASSERT_TRUE(someone.ok());
  PutCompletedSession("s1", someone->recipient);
  auto session = *store_.GetObject(kube::DebugSessionsResource(), {kNamespace, "s1"});
  session["spec"]["recipients"] = {someone->recipient};
  store_.PutObject(kube::DebugSessionsResource(), session);
  EXPECT_EQ(Run({"fetch", "s1"}), static_cast<int>(ExitCode::kIdentity));
  EXPECT_NE(err_.str().find("this snapshot is encrypted to " + someone->recipient),
            std::string::npos)
      << err_.str();
  EXPECT_FALSE(fs::exists(identity_path_));  // fetch never creates one
}

TEST_F(CommandsTest, FetchAfterExpirySaysTheSnapshotWasWiped) {
  PutCompletedSession("s1", Recipient());
  auto session = *store_.GetObject(kube::DebugSessionsResource(), {kNamespace, "s1"});
  session["status"]["phase"] = "Expired";
  store_.PutObject(kube::DebugSessionsResource(), session);
  store_.RemoveObject(kube::DebugSnapshotsResource(), {kNamespace, "s1"});
  EXPECT_EQ(Run({"fetch", "s1"}), static_cast<int>(ExitCode::kExpired));
  EXPECT_NE(err_.str().find("session s1 expired at 2026-01-01T00:05:00Z: its snapshot was wiped"),
            std::string::npos)
      << err_.str();
}

TEST_F(CommandsTest, GetAndListShowTheSession) {
  PutCompletedSession("s1", Recipient());
  ASSERT_EQ(Run({"list"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("s1     Completed   checkout-7d9f/app   alice"), std::string::npos)
      << out_.str();
  ASSERT_EQ(Run({"get", "s1"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("Phase:       Completed"), std::string::npos) << out_.str();
  EXPECT_EQ(Run({"get", "s2"}), static_cast<int>(ExitCode::kNotFound));
  EXPECT_NE(err_.str().find("error: debugsessions.ephemera.dev s2 not found in namespace shop"),
            std::string::npos)
      << err_.str();
}

// The requester deleted her session (and its status.audit) and the log lost the chain's last
// record: only the anchor the controller keeps in its own namespace still shows it.
TEST_F(CommandsTest, AuditVerifyUsesTheAnchorsInTheControllerNamespace) {
  audit::FakeAuditSink sink;
  audit::AuditLog log(sink);
  audit::ChainHead head;
  for (const char* action : {"accepted", "authorized", "wiped"}) {
    audit::AuditRecord r;
    r.chain = audit::SessionChain("uid-1");
    r.action = action;
    head = *log.Append(r);
  }
  store_.PutObject(kube::GroupVersionResource{"", "v1", "configmaps", true, ""},
                   audit::BuildAnchorConfigMap({audit::SessionChain("uid-1"), head, "shop/s1", ""},
                                               "ephemera-system", "uid-1"));
  const std::string lines = sink.JsonLines();
  in_.str(lines.substr(0, lines.rfind('\n', lines.size() - 2) + 1));  // "wiped" cut
  EXPECT_EQ(Run({"audit", "verify", "-n", "shop", "-"}), 0) << "nothing left to anchor to";

  in_.clear();
  in_.str(lines.substr(0, lines.rfind('\n', lines.size() - 2) + 1));
  EXPECT_EQ(Run({"audit", "verify", "--controller-namespace", "ephemera-system", "-"}), 1)
      << out_.str() << err_.str();
  EXPECT_NE(out_.str().find("the chain ends at seq 2 but the anchor says 3 records"),
            std::string::npos)
      << out_.str();
  EXPECT_NE(err_.str().find("Anchoring 1 chain(s) at the heads kept in namespace ephemera-system"),
            std::string::npos)
      << err_.str();

  in_.clear();
  in_.str(lines);
  EXPECT_EQ(Run({"audit", "verify", "--controller-namespace=ephemera-system", "-"}), 0)
      << out_.str() << err_.str();
}

}  // namespace
}  // namespace ephemera::commands
