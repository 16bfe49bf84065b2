#include "kube/auth/exec_credential.h"

#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "base/rfc3339.h"

namespace ephemera::kube {
namespace {

constexpr auto kExpirySkew = std::chrono::seconds(10);

}  // namespace

StatusOr<ExecCredential> ParseExecCredential(std::string_view output,
                                             std::string_view expected_api_version) {
  const nlohmann::json doc = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return InvalidArgumentError("plugin output is not a JSON object");
  if (doc.value("kind", "") != "ExecCredential") {
    return InvalidArgumentError("plugin output has kind \"" + doc.value("kind", "") +
                                "\", want ExecCredential");
  }
  if (doc.value("apiVersion", "") != expected_api_version) {
    return InvalidArgumentError("plugin output has apiVersion \"" + doc.value("apiVersion", "") +
                                "\", want \"" + std::string(expected_api_version) + "\"");
  }
  const auto status = doc.find("status");
  if (status == doc.end() || !status->is_object()) {
    return InvalidArgumentError("plugin output has no status object");
  }
  const auto string_field = [&](const char* key) -> StatusOr<std::string> {
    const auto it = status->find(key);
    if (it == status->end() || it->is_null()) return std::string();
    if (!it->is_string()) {
      return InvalidArgumentError(std::string("status.") + key + " is not a string");
    }
    return it->get<std::string>();
  };
  ExecCredential result;
  auto token = string_field("token");
  auto cert = string_field("clientCertificateData");
  auto key = string_field("clientKeyData");
  auto expiration = string_field("expirationTimestamp");
  for (auto* field : {&token, &cert, &key, &expiration}) {
    if (!field->ok()) return field->status();
  }
  result.credentials.bearer_token = *token;
  result.credentials.client_certificate_pem = *cert;
  result.credentials.client_key_pem = *key;
  if (cert->empty() != key->empty()) {
    return InvalidArgumentError(
        "plugin output must set both status.clientCertificateData and status.clientKeyData");
  }
  if (token->empty() && cert->empty()) {
    return InvalidArgumentError(
        "plugin output has neither status.token nor status.clientCertificateData");
  }
  if (!expiration->empty()) {
    auto when = base::ParseRfc3339(*expiration);
    if (!when.ok()) return when.status().WithContext("status.expirationTimestamp");
    result.expiration = *when;
  }
  return result;
}

std::string BuildExecInfo(const ExecConfig& config, const ExecClusterInfo& cluster,
                          bool interactive) {
  nlohmann::json spec = {{"interactive", interactive}};
  if (config.provide_cluster_info) {
    nlohmann::json c = {{"server", cluster.server}};
    if (!cluster.tls_server_name.empty()) c["tls-server-name"] = cluster.tls_server_name;
    if (!cluster.certificate_authority_pem.empty()) {
      c["certificate-authority-data"] = base::Base64Encode(cluster.certificate_authority_pem);
    }
    spec["cluster"] = std::move(c);
  }
  return nlohmann::json{
      {"apiVersion",
       config.api_version.empty() ? std::string(kExecCredentialApiVersion) : config.api_version},
      {"kind", "ExecCredential"},
      {"spec", std::move(spec)}}
      .dump();
}

ExecTokenSource::ExecTokenSource(ExecConfig config, ExecClusterInfo cluster, base::Clock& clock,
                                 CommandRunner& runner, std::chrono::milliseconds plugin_timeout,
                                 bool stdin_is_terminal)
    : config_(std::move(config)),
      cluster_(std::move(cluster)),
      clock_(clock),
      runner_(runner),
      plugin_timeout_(plugin_timeout),
      stdin_is_terminal_(stdin_is_terminal) {}

StatusOr<ClientCredentials> ExecTokenSource::Credentials() {
  // Held across the plugin run on purpose: concurrent callers wait for one run instead of
  // starting one plugin each (kubectl does the same).
  base::MutexLock lock(mu_);
  if (cached_ && (!cached_->expiration || clock_.Now() + kExpirySkew < *cached_->expiration)) {
    return cached_->credentials;
  }
  cached_.reset();
  const std::string what = "exec plugin \"" + config_.command + "\"";
  if (config_.interactive_mode == ExecInteractiveMode::kAlways && !stdin_is_terminal_) {
    return UnauthenticatedError(
        what +
        " has interactiveMode Always: it needs a person at a terminal, and standard input "
        "is not one (run the command from a terminal, or give the plugin interactiveMode "
        "IfAvailable if it can log in without asking)");
  }
  const bool interactive =
      stdin_is_terminal_ && config_.interactive_mode != ExecInteractiveMode::kNever;
  auto env = config_.env;
  env.emplace_back("KUBERNETES_EXEC_INFO", BuildExecInfo(config_, cluster_, interactive));
  auto result = interactive ? runner_.RunInteractive(config_.command, config_.args, env)
                            : runner_.Run(config_.command, config_.args, env, plugin_timeout_);
  if (!result.ok()) {
    std::string message = what + ": " + result.status().message();
    if (result.status().code() == StatusCode::kNotFound && !config_.install_hint.empty()) {
      message += "; " + config_.install_hint;
    }
    return UnauthenticatedError(message);
  }
  if (result->exit_code != 0) {
    // Standard error is not quoted: plugins may print sensitive diagnostics there.
    return UnauthenticatedError(what + " exited with code " + std::to_string(result->exit_code));
  }
  auto credential = ParseExecCredential(result->standard_output, config_.api_version);
  if (!credential.ok()) return UnauthenticatedError(what + ": " + credential.status().message());
  cached_ = std::move(*credential);
  return cached_->credentials;
}

bool ExecTokenSource::Invalidate() {
  base::MutexLock lock(mu_);
  cached_.reset();
  return true;
}

}  // namespace ephemera::kube
