#include "controller/admission/admission_audit.h"

#include <string>
#include <utility>

#include "controller/admission/admission_review.h"

namespace ephemera::admission {

using nlohmann::json;

bool IsCreate(const json& review) {
  return StringField(ObjectFieldOrEmpty(review, "request"), "operation") == "CREATE";
}

bool IsDryRun(const json& review) {
  const json& request = ObjectFieldOrEmpty(review, "request");
  const auto dry_run = request.find("dryRun");
  return dry_run != request.end() && dry_run->is_boolean() && dry_run->get<bool>();
}

audit::AuditRecord BuildAdmissionRecord(const json& review, const json& answer) {
  const json& request = ObjectFieldOrEmpty(review, "request");
  const json& object = ObjectFieldOrEmpty(request, "object");
  const json& metadata = ObjectFieldOrEmpty(object, "metadata");
  const json& spec = ObjectFieldOrEmpty(object, "spec");
  const json& target = ObjectFieldOrEmpty(spec, "target");
  const json& response = ObjectFieldOrEmpty(answer, "response");
  const bool allowed = response.value("allowed", false);
  const bool dry_run = IsDryRun(review);
  const std::string ns = StringField(request, "namespace");

  audit::AuditRecord record;
  // The validating webhook runs after the API server generated the name and uid; request.name
  // is only the name the client sent (empty for generateName).
  std::string name = StringField(metadata, "name");
  if (name.empty()) name = StringField(request, "name");
  record.session = ns + "/" + name;
  if (name.empty() && !StringField(metadata, "generateName").empty()) {
    record.details["generateName"] = StringField(metadata, "generateName");
  }
  if (const std::string uid = StringField(metadata, "uid"); !uid.empty()) {
    record.details["sessionUid"] = uid;
  }
  record.requester = StringField(ObjectFieldOrEmpty(request, "userInfo"), "username");
  record.reason = StringField(spec, "reason");
  record.target = ns + "/" + StringField(target, "pod") + "/" + StringField(target, "container");
  record.action = allowed ? "admitted" : "denied";
  record.outcome = allowed ? "ok" : "AdmissionDenied";
  record.message = allowed ? "DebugSession admitted"
                           : StringField(ObjectFieldOrEmpty(response, "status"), "message");
  if (dry_run) {
    record.action += "-dry-run";
    record.details["dryRun"] = true;
    if (allowed) record.message = "DebugSession admitted (dry run: nothing was created)";
  }
  return record;
}

void MarkCaller(audit::AuditRecord& record, const AdmissionCaller& caller) {
  if (caller.verified) {
    record.details["caller"] = "apiserver";
    record.details["callerName"] = caller.common_name;
    return;
  }
  record.action += "-unverified";
  record.details["caller"] = "unverified";
  record.message =
      "unverified caller (no webhook client certificate of the API server): " + record.message;
}

json ApplyStrictAudit(const json& review, json answer, const Status& audited, bool strict_audit) {
  if (!strict_audit || audited.ok() || !IsCreate(review)) return answer;
  if (!ObjectFieldOrEmpty(answer, "response").value("allowed", false)) return answer;
  return AdmissionResponse(review, false, std::string(kAuditUnavailableMessage));
}

}  // namespace ephemera::admission
