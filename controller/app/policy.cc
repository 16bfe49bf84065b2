#include "controller/app/policy.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ephemera::app {
namespace {

// The enum named `value` among `choices` (name, enum) for `setting`, or an error naming all three.
template <typename Enum>
StatusOr<Enum> OneOf(std::string_view setting, const std::string& value,
                     const std::vector<std::pair<std::string_view, Enum>>& choices) {
  std::string allowed;
  for (const auto& [name, mode] : choices) {
    if (name == value) return mode;
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  return InvalidArgumentError(std::string(setting) + ": unknown value \"" + value +
                              "\"; allowed: " + allowed);
}

}  // namespace

StatusOr<session::Policy> PolicyFrom(const config::ControllerConfig& config) {
  const config::PolicySettings& settings = config.policy;
  session::Policy policy;
  policy.allowed_namespaces = settings.allowed_namespaces;
  policy.forbidden_namespaces = settings.forbidden_namespaces;
  policy.default_ttl = settings.default_ttl;
  policy.max_ttl = settings.max_ttl;
  policy.allowed_profiles.clear();
  for (const std::string& name : settings.allowed_profiles) {
    auto profile = OneOf<api::Profile>(
        "policy.allowedProfiles", name,
        {{api::ProfileName(api::Profile::kRestricted), api::Profile::kRestricted},
         {api::ProfileName(api::Profile::kPtrace), api::Profile::kPtrace}});
    if (!profile.ok()) return profile.status();
    policy.allowed_profiles.push_back(*profile);
  }
  policy.snapshot_image = config.snapshot_image;
  policy.strict_audit = settings.strict_audit;
  policy.annotate_debugged_pods = settings.annotate_debugged_pods;
  policy.recycle_debugged_pods = settings.recycle_debugged_pods;

  auto unsanctioned = OneOf<session::UnsanctionedContainers>(
      "policy.ephemeralContainers", settings.ephemeral_containers,
      {{"audit", session::UnsanctionedContainers::kAudit},
       {"enforce", session::UnsanctionedContainers::kEnforce}});
  if (!unsanctioned.ok()) return unsanctioned.status();
  policy.unsanctioned_containers = *unsanctioned;

  auto host_namespaces = OneOf<bool>("policy.hostNamespaces", settings.host_namespaces,
                                     {{"deny", false}, {"allow", true}});
  if (!host_namespaces.ok()) return host_namespaces.status();
  policy.allow_host_namespaces = *host_namespaces;

  const std::vector<std::pair<std::string_view, api::PiiMode>> pii_modes = {
      {api::PiiModeName(api::PiiMode::kNone), api::PiiMode::kNone},
      {api::PiiModeName(api::PiiMode::kStandard), api::PiiMode::kStandard},
      {api::PiiModeName(api::PiiMode::kStrict), api::PiiMode::kStrict}};
  auto default_pii = OneOf("policy.pii.default", settings.pii_default, pii_modes);
  if (!default_pii.ok()) return default_pii.status();
  policy.default_pii = *default_pii;
  auto minimum_pii = OneOf("policy.pii.minimum", settings.pii_minimum, pii_modes);
  if (!minimum_pii.ok()) return minimum_pii.status();
  policy.minimum_pii = *minimum_pii;

  auto log_access =
      OneOf<session::LogAccess>("policy.logs.access", settings.logs_access,
                                {{"podsLog", session::LogAccess::kPodsLog},
                                 {"debugProfile", session::LogAccess::kDebugProfile}});
  if (!log_access.ok()) return log_access.status();
  policy.logs.access = *log_access;
  policy.logs.default_tail_lines = settings.logs_default_tail_lines;
  policy.logs.max_tail_lines = settings.logs_max_tail_lines;
  policy.logs.default_limit_bytes = settings.logs_default_limit_bytes;
  policy.logs.max_limit_bytes = settings.logs_max_limit_bytes;
  policy.logs.max_since = settings.logs_max_since;
  policy.budget.default_cpu = settings.budget_default_cpu;
  policy.budget.max_cpu = settings.budget_max_cpu;
  policy.budget.default_memory_bytes = settings.budget_default_memory_bytes;
  policy.budget.max_memory_bytes = settings.budget_max_memory_bytes;
  policy.budget.default_wall = settings.budget_default_wall;
  policy.budget.max_wall = settings.budget_max_wall;
  return policy;
}

}  // namespace ephemera::app
