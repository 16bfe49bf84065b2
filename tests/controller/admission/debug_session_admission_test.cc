#include "controller/admission/debug_session_admission.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "base/base64.h"

namespace ephemera::admission {
namespace {

using nlohmann::json;

json Review(json spec, std::string operation = "CREATE", std::string ns = "team-a") {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "req-1"},
            {"operation", operation},
            {"namespace", ns},
            {"userInfo",
             {{"username", "alice"}, {"uid", "u-1"}, {"groups", {"devs", "system:authenticated"}}}},
            {"object", {{"metadata", {{"name", "s"}, {"namespace", ns}}}, {"spec", spec}}}}}};
}

// `review` as the validating webhook sees it after Ephemera's mutating webhook: spec.requestedBy
// is the request's userInfo.
json Stamped(json review) {
  json& spec = review["request"]["object"]["spec"];
  if (spec.is_object()) spec["requestedBy"] = review["request"]["userInfo"];
  return review;
}

constexpr char kRecipient[] = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

json Spec() {
  return {{"target", {{"pod", "shop-1"}}},
          {"reason", "INC-1 checkout 500s"},
          {"ttl", "5m"},
          {"recipients", {kRecipient}}};
}

TEST(DebugSessionAdmissionTest, MutateStampsRequesterFromUserInfo) {
  json out = MutateDebugSession(Review(Spec()), session::Policy{});
  const json& response = out["response"];
  EXPECT_EQ(response["uid"], "req-1");
  EXPECT_EQ(response["allowed"], true);
  EXPECT_EQ(response["patchType"], "JSONPatch");
  json patch = json::parse(*base::Base64Decode(response["patch"].get<std::string>()));
  ASSERT_EQ(patch.size(), 2u);
  EXPECT_EQ(patch[0]["path"], "/spec/requestedBy");
  EXPECT_EQ(patch[0]["value"]["username"], "alice");
  EXPECT_EQ(patch[0]["value"]["groups"][0], "devs");
}

// L8: the authenticator's extra attributes are part of the requester, so that the controller's
// SubjectAccessReviews can pass them on.
TEST(DebugSessionAdmissionTest, MutateCopiesUserInfoExtraIntoTheRequester) {
  json review = Review(Spec());
  const json extra = {{"scopes.authorization.openshift.io", {"user:info", "user:check-access"}},
                      {"authentication.kubernetes.io/credential-id", {"JTI=1234"}}};
  review["request"]["userInfo"]["extra"] = extra;
  json out = MutateDebugSession(review, session::Policy{});
  ASSERT_EQ(out["response"]["allowed"], true) << out.dump();
  json patch = json::parse(*base::Base64Decode(out["response"]["patch"].get<std::string>()));
  ASSERT_EQ(patch[0]["path"], "/spec/requestedBy");
  EXPECT_EQ(patch[0]["value"]["extra"], extra);
  EXPECT_EQ(patch[0]["value"]["uid"], "u-1");
  EXPECT_EQ(patch[0]["value"]["groups"], json({"devs", "system:authenticated"}));
}

// `review` with the mutating webhook's JSONPatch applied to its object, as the API server hands it
// to the validating webhook.
json AfterMutation(json review) {
  json out = MutateDebugSession(review, session::Policy{});
  EXPECT_EQ(out["response"]["allowed"], true) << out.dump();
  const json patch = json::parse(*base::Base64Decode(out["response"].value("patch", "")));
  review["request"]["object"] = review["request"]["object"].patch(patch);
  return review;
}

// M1: what the mutating webhook wrote passes the validating webhook, extra included; with no
// extra and no uid the same holds.
TEST(DebugSessionAdmissionTest, TheRequesterTheMutatingWebhookWroteIsAccepted) {
  json review = Review(Spec());
  review["request"]["userInfo"]["extra"] = {{"scopes.example.com", {"read", "write"}}};
  EXPECT_EQ(ValidateDebugSession(AfterMutation(review), session::Policy{})["response"]["allowed"],
            true);
  json bare = Review(Spec());
  bare["request"]["userInfo"] = {{"username", "carol"}};
  EXPECT_EQ(ValidateDebugSession(AfterMutation(bare), session::Policy{})["response"]["allowed"],
            true);
  bare["request"]["userInfo"]["extra"] = json::object();  // an empty map is no extra
  EXPECT_EQ(ValidateDebugSession(AfterMutation(bare), session::Policy{})["response"]["allowed"],
            true);
}

// M1, the review's scenario A: a mutating webhook that runs after Ephemera's (a policy engine's
// namespaced mutate rule) rewrites spec.requestedBy. Validation runs after all mutation and refuses
// the session in one sentence, so the controller never sees the forged requester.
TEST(DebugSessionAdmissionTest, ARequesterSwappedByALaterMutatingWebhookIsRefused) {
  json review = AfterMutation(Review(Spec()));
  review["request"]["object"]["spec"]["requestedBy"] = {{"username", "someone-else"},
                                                        {"groups", {"system:masters"}}};
  json out = ValidateDebugSession(review, session::Policy{});
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_EQ(out["response"]["status"]["message"],
            "spec.requestedBy does not match the user who sent this request "
            "(spec.requestedBy.username differs from userInfo.username); another mutating webhook "
            "changed it after Ephemera set it, so the session is refused: remove the cluster's "
            "mutating rules that touch DebugSessions");
  // Only the extra changed: refused as well.
  json extra = Review(Spec());
  extra["request"]["userInfo"]["extra"] = {{"scopes.example.com", {"read-only"}}};
  extra = AfterMutation(extra);
  extra["request"]["object"]["spec"]["requestedBy"]["extra"]["scopes.example.com"] = {"admin"};
  out = ValidateDebugSession(extra, session::Policy{});
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_NE(
      out["response"]["status"]["message"].get<std::string>().find("requestedBy.extra differs"),
      std::string::npos)
      << out.dump();
  // An update is the CRD's business (the spec is immutable): not refused here.
  json update = review;
  update["request"]["operation"] = "UPDATE";
  EXPECT_EQ(ValidateDebugSession(update, session::Policy{})["response"]["allowed"], true);
}

TEST(DebugSessionAdmissionTest, MutateFillsTheDefaultTtlFromPolicy) {
  json spec = Spec();
  spec.erase("ttl");
  session::Policy policy;
  policy.default_ttl = std::chrono::minutes(7);
  json out = MutateDebugSession(Review(spec), policy);
  ASSERT_EQ(out["response"]["allowed"], true);
  json patch = json::parse(*base::Base64Decode(out["response"]["patch"].get<std::string>()));
  ASSERT_EQ(patch.size(), 3u);
  EXPECT_EQ(patch[1]["path"], "/spec/ttl");
  EXPECT_EQ(patch[1]["value"], "7m");
}

// The controller would otherwise write each new session once only to add its finalizer.
TEST(DebugSessionAdmissionTest, MutateAddsTheCleanupFinalizerOnce) {
  auto patch_for = [](const json& metadata) {
    json review = Review(Spec());
    review["request"]["object"]["metadata"] = metadata;
    json out = MutateDebugSession(review, session::Policy{});
    EXPECT_EQ(out["response"]["allowed"], true);
    return json::parse(*base::Base64Decode(out["response"]["patch"].get<std::string>()));
  };
  json none = patch_for({{"name", "s"}});
  ASSERT_EQ(none.size(), 2u);
  EXPECT_EQ(
      none[1],
      json({{"op", "add"}, {"path", "/metadata/finalizers"}, {"value", {"ephemera.dev/cleanup"}}}));
  json other = patch_for({{"name", "s"}, {"finalizers", {"example.com/keep"}}});
  ASSERT_EQ(other.size(), 2u);
  EXPECT_EQ(
      other[1],
      json({{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", "ephemera.dev/cleanup"}}));
  json ours = patch_for({{"name", "s"}, {"finalizers", {"ephemera.dev/cleanup"}}});
  EXPECT_EQ(ours.size(), 1u) << ours.dump();
}

TEST(DebugSessionAdmissionTest, ValidateAppliesTheDefaultTtlWhenUnset) {
  json spec = Spec();
  spec.erase("ttl");
  session::Policy policy;
  policy.default_ttl = std::chrono::hours(2);
  policy.max_ttl = std::chrono::hours(1);
  EXPECT_EQ(ValidateDebugSession(Stamped(Review(spec)), policy)["response"]["allowed"], false)
      << "a default above the cap is still capped at admission";
}

TEST(DebugSessionAdmissionTest, ValidateChecksThePiiModeAgainstThePolicy) {
  session::Policy policy;
  policy.minimum_pii = api::PiiMode::kStandard;
  const auto message_for = [&](json pii) {
    json spec = Spec();
    spec["redaction"] = {{"pii", pii}};
    json out = ValidateDebugSession(Stamped(Review(spec)), policy);
    return out["response"]["allowed"] == true
               ? std::string("allowed")
               : out["response"]["status"]["message"].get<std::string>();
  };
  EXPECT_EQ(message_for("strict"), "allowed");
  EXPECT_EQ(message_for("standard"), "allowed");
  EXPECT_EQ(message_for("none"),
            "spec.redaction.pii: none masks less personal data than the cluster policy's "
            "minimum, standard; ask for standard or strict, or leave it out for the cluster's "
            "default (standard)");
  // YAML 1.1 reads an unquoted off as false: say what is allowed, not "unknown".
  EXPECT_EQ(message_for(false), "spec.redaction.pii: must be none, standard or strict, not false");
  EXPECT_EQ(message_for("all"),
            "spec.redaction.pii: must be none, standard or strict, not \"all\"");
  json spec = Spec();
  EXPECT_EQ(ValidateDebugSession(Stamped(Review(spec)), policy)["response"]["allowed"], true)
      << "no mode: the policy's default applies";
}

TEST(DebugSessionAdmissionTest, ValidateChecksTheLogBoundsAgainstThePolicy) {
  session::Policy policy;
  const auto message_for = [&](json logs) {
    json spec = Spec();
    spec["logs"] = std::move(logs);
    json out = ValidateDebugSession(Stamped(Review(spec)), policy);
    return out["response"]["allowed"] == true
               ? std::string("allowed")
               : out["response"]["status"]["message"].get<std::string>();
  };
  EXPECT_EQ(message_for({{"tailLines", policy.logs.max_tail_lines}, {"since", "24h"}}), "allowed");
  EXPECT_EQ(message_for({{"tailLines", policy.logs.max_tail_lines + 1}}),
            "spec.logs.tailLines: 10001 exceeds the cluster's maximum of 10000; ask for 10000 or "
            "fewer lines");
  EXPECT_EQ(message_for({{"limitBytes", 1 << 20}}),
            "spec.logs.limitBytes: 1048576 exceeds the cluster's maximum of 524288 bytes per "
            "instance; ask for 524288 or less");
  EXPECT_EQ(message_for({{"since", "25h"}}),
            "spec.logs.since: 25h reaches further back than the cluster's maximum of 24h; ask for "
            "24h or less");
  EXPECT_EQ(message_for({{"tailLines", "many"}}),
            "spec.logs.tailLines: must be a positive integer, not \"many\"");
  EXPECT_EQ(message_for({{"previous", "yes"}}),
            "spec.logs.previous: must be true or false, not \"yes\"");
}

TEST(DebugSessionAdmissionTest, ValidateChecksTheBudgetAgainstThePolicy) {
  session::Policy policy;
  const auto message_for = [&](json budget) {
    json spec = Spec();
    spec["budget"] = std::move(budget);
    json out = ValidateDebugSession(Stamped(Review(spec)), policy);
    return out["response"]["allowed"] == true
               ? std::string("allowed")
               : out["response"]["status"]["message"].get<std::string>();
  };
  // At the ceilings (10s, 256Mi, 2m by default): allowed; just above each: refused by name.
  EXPECT_EQ(message_for({{"cpu", "10s"}, {"memoryBytes", 268435456}, {"wall", "2m"}}), "allowed");
  EXPECT_EQ(message_for({{"cpu", "10001ms"}}),
            "spec.budget.cpu: 10001ms exceeds the cluster's maximum of 10s of CPU time; ask for "
            "10s or less");
  EXPECT_EQ(message_for({{"memoryBytes", 268435457}}),
            "spec.budget.memoryBytes: 268435457 exceeds the cluster's maximum of 268435456 "
            "(256Mi) bytes; ask for 268435456 or less");
  EXPECT_EQ(message_for({{"wall", "121s"}}),
            "spec.budget.wall: 2m1s exceeds the cluster's maximum of 2m; ask for 2m or less");
  EXPECT_EQ(message_for({{"memoryBytes", 1048576}}),
            "spec.budget.memoryBytes: 1048576 is below the 16777216 (16Mi) bytes the snapshot "
            "tool needs to run at all; ask for at least 16777216");
  EXPECT_EQ(message_for(json::object()), "allowed");
  EXPECT_EQ(message_for({{"cpu", 2}}),
            "spec.budget.cpu: must be a duration string such as \"2s\", not 2");
  EXPECT_EQ(message_for({{"wall", "1500ms"}}),
            "spec.budget.wall: 1500ms is not a positive whole number of seconds; ask for e.g. 30s");
  EXPECT_EQ(message_for({{"cpu", "0s"}}),
            "spec.budget.cpu: 0s is not a positive whole number of milliseconds; ask for e.g. 2s");
  EXPECT_EQ(message_for({{"memoryBytes", "64Mi"}}),
            "spec.budget.memoryBytes: must be a positive integer, not \"64Mi\"");
}

TEST(DebugSessionAdmissionTest, ValidateRefusesAWallAsLongAsTheTtl) {
  json spec = Spec();
  spec["ttl"] = "1m";
  spec["budget"] = {{"wall", "1m"}};
  json out = ValidateDebugSession(Stamped(Review(spec)), session::Policy{});
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_EQ(out["response"]["status"]["message"],
            "spec.budget.wall: 1m is not shorter than the session's ttl of 1m, so the snapshot "
            "could not be delivered before the session expires; ask for a shorter wall or a "
            "longer ttl");
  spec["budget"] = {{"wall", "59s"}};
  EXPECT_EQ(ValidateDebugSession(Stamped(Review(spec)), session::Policy{})["response"]["allowed"],
            true);
}

TEST(DebugSessionAdmissionTest, MutateRejectsSelfDeclaredRequester) {
  json spec = Spec();
  spec["requestedBy"] = {{"username", "bob"}};
  json out = MutateDebugSession(Review(spec), session::Policy{});
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_NE(out["response"]["status"]["message"].get<std::string>().find("spec.requestedBy"),
            std::string::npos);
}

TEST(DebugSessionAdmissionTest, MutateLeavesUpdatesAlone) {
  json out = MutateDebugSession(Review(Spec(), "UPDATE"), session::Policy{});
  EXPECT_EQ(out["response"]["allowed"], true);
  EXPECT_FALSE(out["response"].contains("patch"));
}

TEST(DebugSessionAdmissionTest, MalformedReviewIsDenied) {
  EXPECT_EQ(MutateDebugSession(json::object(), session::Policy{})["response"]["allowed"], false);
  EXPECT_EQ(ValidateDebugSession(json("x"), {})["response"]["allowed"], false);
}

TEST(DebugSessionAdmissionTest, ValidateCapsTtlWithClearMessage) {
  session::Policy policy;
  policy.max_ttl = std::chrono::hours(1);
  json spec = Spec();
  spec["ttl"] = "2h";
  json out = ValidateDebugSession(Stamped(Review(spec)), policy);
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_EQ(out["response"]["status"]["message"],
            "spec.ttl: 2h exceeds the cluster's maximum of 1h; ask for 1h or less");
}

TEST(DebugSessionAdmissionTest, ValidateForbiddenNamespace) {
  session::Policy policy;
  policy.forbidden_namespaces = {"kube-system"};
  json out = ValidateDebugSession(Stamped(Review(Spec(), "CREATE", "kube-system")), policy);
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_NE(out["response"]["status"]["message"].get<std::string>().find("kube-system"),
            std::string::npos);
}

TEST(DebugSessionAdmissionTest, ValidateProfileNotAllowed) {
  session::Policy policy;
  policy.allowed_profiles = {api::Profile::kRestricted};
  json spec = Spec();
  spec["profile"] = "ptrace";
  EXPECT_EQ(ValidateDebugSession(Stamped(Review(spec)), policy)["response"]["allowed"], false);
}

TEST(DebugSessionAdmissionTest, ValidateAllowsWithinPolicy) {
  EXPECT_EQ(ValidateDebugSession(Stamped(Review(Spec())), session::Policy{})["response"]["allowed"],
            true);
}

// Found by the admission_review fuzzer: a member of the wrong type (here "operation" is an
// object) made nlohmann's value() throw inside the webhook.
TEST(DebugSessionAdmissionTest, MembersOfTheWrongTypeAreAnsweredNotThrown) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/admission/operation_is_an_object.json");
  const json review = json::parse(in);
  json out;
  ASSERT_NO_THROW(out = MutateDebugSession(review, session::Policy{}));
  EXPECT_EQ(out["response"]["uid"], "req-2");
  ASSERT_NO_THROW(out = ValidateDebugSession(review, session::Policy{}));
  json typed = Review(Spec());
  typed["request"]["operation"] = "CREATE";
  typed["request"]["object"]["spec"]["ttl"] = 42;
  typed["request"]["object"]["spec"]["profile"] = json::array();
  typed["request"]["userInfo"]["username"] = json::object();
  ASSERT_NO_THROW(out = MutateDebugSession(typed, session::Policy{}));
  EXPECT_EQ(out["response"]["allowed"], false) << "no username: no requester to bind";
  ASSERT_NO_THROW(out = ValidateDebugSession(typed, session::Policy{}));
  EXPECT_EQ(out["response"]["allowed"], false) << "a ttl that is not a duration string";
}

// --- Invalid DebugSessions, one row each ----------------------------------------------------
//
// Every row is denied with one sentence that names the field and the rule. Rules that the CRD
// schema enforces before the webhook runs (a missing target.pod, a short or empty reason, recipient
// shape, capture names, requestedBy changed on update) are the API server's: docs/reliability.md
// lists where those are tested.

enum class Hook { kMutate, kValidate };

struct InvalidSessionCase {
  std::string name;
  Hook hook = Hook::kValidate;
  std::function<void(json& review, session::Policy& policy)> change;
  std::string field;  // what the message names
  std::string rule;   // a part of the message that states the rule
};

// The policy every row starts from: kube-system forbidden, TTLs capped at 1h.
session::Policy BasePolicy() {
  session::Policy policy;
  policy.forbidden_namespaces = {"kube-system"};
  policy.max_ttl = std::chrono::hours(1);
  return policy;
}

json& SpecOf(json& review) { return review["request"]["object"]["spec"]; }

std::function<void(json&, session::Policy&)> SetSpec(std::string key, json value) {
  return [key = std::move(key), value = std::move(value)](json& review, session::Policy&) {
    SpecOf(review)[key] = value;
  };
}

std::function<void(json&, session::Policy&)> SetTtl(json ttl) {
  return SetSpec("ttl", std::move(ttl));
}

std::function<void(json&, session::Policy&)> SetRecipients(json recipients) {
  return SetSpec("recipients", std::move(recipients));
}

// kRecipient with its last (checksum) character changed.
std::string RecipientWithBadChecksum() {
  std::string r = kRecipient;
  r.back() = r.back() == 'p' ? 'q' : 'p';
  return r;
}

std::vector<InvalidSessionCase> InvalidSessionCases() {
  return {
      {"ReviewWithoutRequest", Hook::kValidate,
       [](json& review, session::Policy&) { review.erase("request"); }, "AdmissionReview",
       "no request"},
      {"ReviewWithoutRequestAtMutation", Hook::kMutate,
       [](json& review, session::Policy&) { review.erase("request"); }, "AdmissionReview",
       "no request"},
      {"NoSpec", Hook::kValidate,
       [](json& review, session::Policy&) { review["request"]["object"].erase("spec"); }, "spec",
       "has no spec"},
      {"NoSpecAtMutation", Hook::kMutate,
       [](json& review, session::Policy&) { review["request"]["object"]["spec"] = "x"; }, "spec",
       "has no spec"},
      {"RequestedBySetByTheUser", Hook::kMutate, SetSpec("requestedBy", {{"username", "bob"}}),
       "spec.requestedBy", "is set by Ephemera from your identity; remove it"},
      {"NoAuthenticatedUser", Hook::kMutate,
       [](json& review, session::Policy&) { review["request"]["userInfo"] = json::object(); },
       "authenticated user", "cannot bind the session to a requester"},
      // M1: whatever changed the requester after the mutating webhook bound it.
      {"RequestedByMissingAtValidation", Hook::kValidate,
       [](json& review, session::Policy&) { SpecOf(review).erase("requestedBy"); },
       "spec.requestedBy", "is missing; Ephemera's mutating webhook sets it from your identity"},
      {"RequestedBySwappedForAnotherUser", Hook::kValidate,
       SetSpec("requestedBy", {{"username", "someone-else"}, {"groups", {"system:masters"}}}),
       "spec.requestedBy",
       "does not match the user who sent this request (spec.requestedBy.username differs from "
       "userInfo.username)"},
      {"RequesterGroupsWidened", Hook::kValidate,
       [](json& review, session::Policy&) {
         SpecOf(review)["requestedBy"]["groups"].push_back("system:masters");
       },
       "spec.requestedBy",
       "(spec.requestedBy.groups differs from userInfo.groups); another mutating webhook changed "
       "it"},
      {"RequesterGroupsReordered", Hook::kValidate,
       [](json& review, session::Policy&) {
         SpecOf(review)["requestedBy"]["groups"] = {"system:authenticated", "devs"};
       },
       "spec.requestedBy", "(spec.requestedBy.groups differs from userInfo.groups)"},
      {"RequesterUidChanged", Hook::kValidate,
       [](json& review, session::Policy&) { SpecOf(review)["requestedBy"]["uid"] = "u-2"; },
       "spec.requestedBy", "(spec.requestedBy.uid differs from userInfo.uid)"},
      {"RequesterExtraDropped", Hook::kValidate,
       [](json& review, session::Policy&) {
         review["request"]["userInfo"]["extra"] = {{"scopes.example.com", {"read-only"}}};
       },
       "spec.requestedBy", "(spec.requestedBy.extra differs from userInfo.extra)"},
      {"RequesterExtraAdded", Hook::kValidate,
       [](json& review, session::Policy&) {
         SpecOf(review)["requestedBy"]["extra"] = {{"scopes.example.com", {"admin"}}};
       },
       "spec.requestedBy", "(spec.requestedBy.extra differs from userInfo.extra)"},
      {"ForbiddenNamespace", Hook::kValidate,
       [](json& review, session::Policy&) { review["request"]["namespace"] = "kube-system"; },
       "metadata.namespace",
       "cluster policy does not allow debug sessions in namespace kube-system"},
      {"NamespaceNotInTheAllowList", Hook::kValidate,
       [](json&, session::Policy& policy) { policy.allowed_namespaces = {"team-b"}; },
       "metadata.namespace", "cluster policy does not allow debug sessions in namespace team-a"},
      {"TtlNotADuration", Hook::kValidate, SetTtl("five minutes"), "spec.ttl",
       "invalid duration \"five minutes\""},
      {"TtlWithoutUnit", Hook::kValidate, SetTtl("300"), "spec.ttl", "invalid duration \"300\""},
      {"TtlWithUnknownUnit", Hook::kValidate, SetTtl("1d"), "spec.ttl", "invalid duration \"1d\""},
      {"TtlEmpty", Hook::kValidate, SetTtl(""), "spec.ttl", "invalid duration \"\": empty"},
      {"TtlNotAString", Hook::kValidate, SetTtl(300), "spec.ttl",
       "must be a duration string such as \"5m\", not 300"},
      {"TtlNegative", Hook::kValidate, SetTtl("-5m"), "spec.ttl", "-5m is not a positive duration"},
      {"TtlZero", Hook::kValidate, SetTtl("0s"), "spec.ttl", "0s is not a positive duration"},
      {"TtlOverTheMaximum", Hook::kValidate, SetTtl("2h"), "spec.ttl",
       "2h exceeds the cluster's maximum of 1h; ask for 1h or less"},
      {"DefaultTtlOverTheMaximum", Hook::kValidate,
       [](json& review, session::Policy& policy) {
         SpecOf(review).erase("ttl");
         policy.default_ttl = std::chrono::hours(2);
       },
       "spec.ttl", "exceeds the cluster's maximum of 1h"},
      {"UnknownProfile", Hook::kValidate, SetSpec("profile", "root"), "spec.profile",
       "unknown profile \"root\"; use restricted or ptrace"},
      {"ProfileNotAString", Hook::kValidate, SetSpec("profile", json::array()), "spec.profile",
       "must be restricted or ptrace"},
      {"ProfileNotAllowed", Hook::kValidate,
       [](json& review, session::Policy& policy) {
         SpecOf(review)["profile"] = "ptrace";
         policy.allowed_profiles = {api::Profile::kRestricted};
       },
       "spec.profile", "cluster policy does not allow the ptrace profile"},
      {"NoRecipients", Hook::kValidate,
       [](json& review, session::Policy&) { SpecOf(review).erase("recipients"); },
       "spec.recipients", "at least one age recipient"},
      {"EmptyRecipients", Hook::kValidate, SetRecipients(json::array()), "spec.recipients",
       "at least one age recipient"},
      {"RecipientNotAString", Hook::kValidate, SetRecipients({kRecipient, 7}), "spec.recipients[1]",
       "must be a string"},
      {"RecipientWithABadChecksum", Hook::kValidate, SetRecipients({RecipientWithBadChecksum()}),
       "spec.recipients[0]", "is not a usable age X25519 recipient"},
      {"RecipientWithAnotherPrefix", Hook::kValidate,
       SetRecipients({"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx"}), "spec.recipients[0]",
       "is not a usable age X25519 recipient"},
      {"RecipientIsASecretKey", Hook::kValidate,
       SetRecipients(
           {"AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS3290GG"}),
       "spec.recipients[0]", "is a secret key, not a recipient"},
  };
}

// gtest prints a row by its name.
void PrintTo(const InvalidSessionCase& row, std::ostream* os) { *os << row.name; }

class InvalidDebugSessionTest : public ::testing::TestWithParam<InvalidSessionCase> {};

TEST_P(InvalidDebugSessionTest, IsDeniedWithAMessageNamingTheFieldAndTheRule) {
  const InvalidSessionCase& c = GetParam();
  json review = c.hook == Hook::kMutate ? Review(Spec()) : Stamped(Review(Spec()));
  session::Policy policy = BasePolicy();
  // The row's change is the only thing wrong: without it the same hook allows the request.
  const json allowed = c.hook == Hook::kMutate ? MutateDebugSession(review, policy)
                                               : ValidateDebugSession(review, policy);
  ASSERT_EQ(allowed["response"]["allowed"], true) << allowed.dump();

  c.change(review, policy);
  const json out = c.hook == Hook::kMutate ? MutateDebugSession(review, policy)
                                           : ValidateDebugSession(review, policy);
  ASSERT_EQ(out["response"]["allowed"], false) << out.dump();  // a status is read below
  EXPECT_EQ(out["response"]["status"]["code"], 403);
  const std::string message = out["response"]["status"].value("message", "");
  EXPECT_NE(message.find(c.field), std::string::npos) << message;
  EXPECT_NE(message.find(c.rule), std::string::npos) << message;
  EXPECT_EQ(message.find("AGE-SECRET-KEY-1"), std::string::npos) << "a secret key is not echoed";
  EXPECT_FALSE(out["response"].contains("patch"));
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidDebugSessionTest, ::testing::ValuesIn(InvalidSessionCases()),
                         [](const ::testing::TestParamInfo<InvalidSessionCase>& row) {
                           return row.param.name;
                         });

}  // namespace
}  // namespace ephemera::admission
