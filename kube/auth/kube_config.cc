#include "kube/auth/kube_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "base/base64.h"

namespace ephemera::kube {
namespace {

std::string ResolvePath(std::string_view base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  std::string out(base_dir);
  if (out.back() != '/') out += '/';
  return out + path;
}

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Reads fields of one kubeconfig document, turning every problem into
// "<source>: <field path>: <problem>". Values are never quoted in messages unless they are names.
class Reader {
 public:
  Reader(std::string_view source, std::string_view base_dir)
      : source_(source), base_dir_(base_dir) {}

  Status Error(const std::string& field, const std::string& problem) const {
    return InvalidArgumentError(source_ + ": " + field + ": " + problem);
  }

  // A scalar string field; "" when absent or null.
  StatusOr<std::string> String(const YAML::Node& map, const char* key,
                               const std::string& path) const {
    const YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return std::string();
    if (!node.IsScalar()) return Error(path + "." + key, "expected a string");
    return node.Scalar();
  }

  StatusOr<bool> Bool(const YAML::Node& map, const char* key, const std::string& path) const {
    auto text = String(map, key, path);
    if (!text.ok()) return text.status();
    if (text->empty() || *text == "false" || *text == "False" || *text == "FALSE") return false;
    if (*text == "true" || *text == "True" || *text == "TRUE") return true;
    return Error(path + "." + key, "expected true or false");
  }

  // The `key` (e.g. "cluster") map of the entry named `name` in the list `list_key`.
  StatusOr<YAML::Node> Named(const YAML::Node& root, const char* list_key, const char* key,
                             const std::string& name) const {
    const YAML::Node list = root[list_key];
    if (list.IsDefined() && !list.IsNull() && !list.IsSequence()) {
      return Error(list_key, "expected a list");
    }
    if (list.IsSequence()) {
      for (std::size_t i = 0; i < list.size(); ++i) {
        const YAML::Node entry = list[i];
        const std::string path = std::string(list_key) + "[" + std::to_string(i) + "]";
        if (!entry.IsMap()) return Error(path, std::string("expected a map with name and ") + key);
        auto entry_name = String(entry, "name", path);
        if (!entry_name.ok()) return entry_name.status();
        if (*entry_name != name) continue;
        const YAML::Node value = entry[key];
        if (!value.IsMap()) {
          return Error(std::string(list_key) + "[name=\"" + name + "\"]." + key,
                       "missing or not a map");
        }
        return value;
      }
    }
    return Error(list_key, "no entry named \"" + name + "\"");
  }

  // PEM material given inline as base64 (`data_key`) or as a file path (`file_key`); data wins,
  // as in kubectl. `marker` is a string the PEM must contain.
  StatusOr<std::string> Pem(const YAML::Node& map, const char* data_key, const char* file_key,
                            const std::string& path, std::string_view marker) const {
    auto data = String(map, data_key, path);
    if (!data.ok()) return data.status();
    std::string pem;
    std::string field;
    if (!data->empty()) {
      field = path + "." + data_key;
      auto decoded = base::Base64Decode(*data);
      if (!decoded.ok()) return Error(field, decoded.status().message());
      pem = std::move(*decoded);
    } else {
      auto file = String(map, file_key, path);
      if (!file.ok()) return file.status();
      if (file->empty()) return std::string();
      field = path + "." + file_key;
      const std::string resolved = ResolvePath(base_dir_, *file);
      auto contents = ReadSmallFile(resolved);
      if (!contents.ok()) return Error(field, contents.status().message());
      pem = std::move(*contents);
    }
    if (pem.find(marker) == std::string::npos) {
      return Error(field, "does not contain PEM data (\"" + std::string(marker) + "\")");
    }
    return pem;
  }

  const std::string& BaseDir() const { return base_dir_; }

 private:
  std::string source_;
  std::string base_dir_;
};

Status ParseExec(const Reader& r, const YAML::Node& exec, const std::string& path,
                 ExecConfig* out) {
  if (!exec.IsMap()) return r.Error(path, "expected a map");
  auto api_version = r.String(exec, "apiVersion", path);
  auto command = r.String(exec, "command", path);
  auto install_hint = r.String(exec, "installHint", path);
  auto interactive = r.String(exec, "interactiveMode", path);
  auto cluster_info = r.Bool(exec, "provideClusterInfo", path);
  for (const Status& s : {api_version.status(), command.status(), install_hint.status(),
                          interactive.status(), cluster_info.status()}) {
    EPHEMERA_RETURN_IF_ERROR(s);
  }
  if (*api_version != kExecCredentialApiVersion &&
      *api_version != "client.authentication.k8s.io/v1beta1") {
    return r.Error(path + ".apiVersion", "\"" + *api_version + "\" is not supported; use " +
                                             std::string(kExecCredentialApiVersion));
  }
  if (command->empty()) return r.Error(path + ".command", "is required");
  if (*interactive == "Never") {
    out->interactive_mode = ExecInteractiveMode::kNever;
  } else if (*interactive == "Always") {
    out->interactive_mode = ExecInteractiveMode::kAlways;
  } else if (interactive->empty() || *interactive == "IfAvailable") {
    out->interactive_mode = ExecInteractiveMode::kIfAvailable;
  } else {
    return r.Error(path + ".interactiveMode",
                   "\"" + *interactive + "\" is not one of Never, IfAvailable, Always");
  }
  out->api_version = *api_version;
  out->command =
      command->find('/') == std::string::npos ? *command : ResolvePath(r.BaseDir(), *command);
  out->install_hint = *install_hint;
  out->provide_cluster_info = *cluster_info;
  const YAML::Node args = exec["args"];
  if (args.IsDefined() && !args.IsNull()) {
    if (!args.IsSequence()) return r.Error(path + ".args", "expected a list of strings");
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (!args[i].IsScalar()) {
        return r.Error(path + ".args[" + std::to_string(i) + "]", "expected a string");
      }
      out->args.push_back(args[i].Scalar());
    }
  }
  const YAML::Node env = exec["env"];
  if (env.IsDefined() && !env.IsNull()) {
    if (!env.IsSequence()) return r.Error(path + ".env", "expected a list of {name, value}");
    for (std::size_t i = 0; i < env.size(); ++i) {
      const std::string item = path + ".env[" + std::to_string(i) + "]";
      if (!env[i].IsMap()) return r.Error(item, "expected {name, value}");
      auto name = r.String(env[i], "name", item);
      auto value = r.String(env[i], "value", item);
      EPHEMERA_RETURN_IF_ERROR(name.status());
      EPHEMERA_RETURN_IF_ERROR(value.status());
      if (name->empty()) return r.Error(item + ".name", "is required");
      out->env.emplace_back(*name, *value);
    }
  }
  return OkStatus();
}

StatusOr<KubeConfig> Parse(const YAML::Node& root, const Reader& r,
                           const KubeConfigOptions& options) {
  if (!root.IsMap()) return r.Error("(document)", "expected a kubeconfig map");
  KubeConfig config;
  auto kind = r.String(root, "kind", "");
  EPHEMERA_RETURN_IF_ERROR(kind.status());
  if (!kind->empty() && *kind != "Config") return r.Error("kind", "expected Config");

  // Context.
  std::string context_name = options.context;
  if (context_name.empty()) {
    auto current = r.String(root, "current-context", "");
    EPHEMERA_RETURN_IF_ERROR(current.status());
    context_name = *current;
  }
  if (context_name.empty()) {
    return r.Error("current-context", "is not set and no context was given");
  }
  auto context = r.Named(root, "contexts", "context", context_name);
  EPHEMERA_RETURN_IF_ERROR(context.status());
  const std::string context_path = "contexts[name=\"" + context_name + "\"].context";
  auto cluster_name = r.String(*context, "cluster", context_path);
  auto user_name = r.String(*context, "user", context_path);
  auto namespace_name = r.String(*context, "namespace", context_path);
  EPHEMERA_RETURN_IF_ERROR(cluster_name.status());
  EPHEMERA_RETURN_IF_ERROR(user_name.status());
  EPHEMERA_RETURN_IF_ERROR(namespace_name.status());
  if (cluster_name->empty()) return r.Error(context_path + ".cluster", "is required");
  config.context_name = context_name;
  if (!namespace_name->empty()) config.namespace_name = *namespace_name;

  // Cluster.
  auto cluster = r.Named(root, "clusters", "cluster", *cluster_name);
  EPHEMERA_RETURN_IF_ERROR(cluster.status());
  const std::string cluster_path = "clusters[name=\"" + *cluster_name + "\"].cluster";
  auto server = r.String(*cluster, "server", cluster_path);
  EPHEMERA_RETURN_IF_ERROR(server.status());
  if (server->empty()) return r.Error(cluster_path + ".server", "is required");
  if (server->rfind("https://", 0) != 0 || server->size() <= 8) {
    return r.Error(cluster_path + ".server",
                   "must be an https:// URL (plain HTTP is not supported: TLS is always verified)");
  }
  config.server = *server;
  while (config.server.back() == '/') config.server.pop_back();
  auto insecure = r.Bool(*cluster, "insecure-skip-tls-verify", cluster_path);
  EPHEMERA_RETURN_IF_ERROR(insecure.status());
  if (*insecure) {
    return r.Error(cluster_path + ".insecure-skip-tls-verify",
                   "is true, which is refused: Ephemera always verifies the API server's "
                   "certificate; set certificate-authority-data instead");
  }
  auto proxy = r.String(*cluster, "proxy-url", cluster_path);
  EPHEMERA_RETURN_IF_ERROR(proxy.status());
  if (!proxy->empty()) {
    // An HTTP proxy, reached in the clear, that opens a CONNECT tunnel to the API server: TLS stays
    // end to end. SOCKS is not spoken here.
    const bool http = proxy->rfind("http://", 0) == 0 && proxy->size() > 7;
    if (!http) {
      return r.Error(cluster_path + ".proxy-url",
                     proxy->rfind("socks5://", 0) == 0
                         ? "a SOCKS proxy is not supported; give an HTTP proxy (http://host:port)"
                         : "must be an http:// URL of an HTTP proxy (http://host:port)");
    }
    config.proxy_url = *proxy;
  }
  auto tls_server_name = r.String(*cluster, "tls-server-name", cluster_path);
  EPHEMERA_RETURN_IF_ERROR(tls_server_name.status());
  config.tls_server_name = *tls_server_name;
  auto ca = r.Pem(*cluster, "certificate-authority-data", "certificate-authority", cluster_path,
                  "-----BEGIN CERTIFICATE-----");
  EPHEMERA_RETURN_IF_ERROR(ca.status());
  config.certificate_authority_pem = std::move(*ca);

  // User (optional: a context may name none).
  if (!user_name->empty()) {
    auto user = r.Named(root, "users", "user", *user_name);
    EPHEMERA_RETURN_IF_ERROR(user.status());
    const std::string user_path = "users[name=\"" + *user_name + "\"].user";
    for (const char* unsupported :
         {"username", "password", "auth-provider", "as", "as-uid", "as-groups", "as-user-extra"}) {
      const YAML::Node node = (*user)[unsupported];
      if (node.IsDefined() && !node.IsNull()) {
        return r.Error(user_path + "." + unsupported, "is not supported");
      }
    }
    auto cert = r.Pem(*user, "client-certificate-data", "client-certificate", user_path,
                      "-----BEGIN CERTIFICATE-----");
    EPHEMERA_RETURN_IF_ERROR(cert.status());
    auto key = r.Pem(*user, "client-key-data", "client-key", user_path, "PRIVATE KEY-----");
    EPHEMERA_RETURN_IF_ERROR(key.status());
    if (cert->empty() != key->empty()) {
      return r.Error(user_path, cert->empty() ? "client-key is set without client-certificate"
                                              : "client-certificate is set without client-key");
    }
    config.client_certificate_pem = std::move(*cert);
    config.client_key_pem = std::move(*key);
    auto token = r.String(*user, "token", user_path);
    auto token_file = r.String(*user, "tokenFile", user_path);
    EPHEMERA_RETURN_IF_ERROR(token.status());
    EPHEMERA_RETURN_IF_ERROR(token_file.status());
    config.token = *token;
    // A literal token takes precedence over tokenFile, as in client-go.
    if (config.token.empty() && !token_file->empty()) {
      config.token_file = ResolvePath(r.BaseDir(), *token_file);
    }
    const YAML::Node exec = (*user)["exec"];
    if (exec.IsDefined() && !exec.IsNull()) {
      if (!config.token.empty() || !config.token_file.empty()) {
        return r.Error(user_path, "sets both a token and exec; keep one");
      }
      if (!config.client_certificate_pem.empty()) {
        return r.Error(user_path, "sets both a client certificate and exec; keep one");
      }
      ExecConfig exec_config;
      EPHEMERA_RETURN_IF_ERROR(ParseExec(r, exec, user_path + ".exec", &exec_config));
      config.exec = std::move(exec_config);
    }
  }
  return config;
}

// The fields of a kubeconfig entry that hold paths, as {entry key, field}: each relative one is
// made absolute against the directory of the file the entry came from, before the files merge.
struct PathField {
  const char* list;
  const char* entry;
  const char* field;
};
constexpr PathField kPathFields[] = {
    {"clusters", "cluster", "certificate-authority"},
    {"users", "user", "client-certificate"},
    {"users", "user", "client-key"},
    {"users", "user", "tokenFile"},
};

void AbsolutizePaths(YAML::Node& root, const std::string& base_dir) {
  for (const PathField& f : kPathFields) {
    YAML::Node list = root[f.list];
    if (!list.IsSequence()) continue;
    for (YAML::Node entry : list) {
      if (!entry.IsMap() || !entry[f.entry].IsMap()) continue;
      YAML::Node body = entry[f.entry];
      if (body[f.field].IsScalar()) body[f.field] = ResolvePath(base_dir, body[f.field].Scalar());
    }
  }
  YAML::Node users = root["users"];
  if (!users.IsSequence()) return;
  for (YAML::Node entry : users) {
    if (!entry.IsMap() || !entry["user"].IsMap() || !entry["user"]["exec"].IsMap()) continue;
    YAML::Node exec = entry["user"]["exec"];
    // A bare command name is looked up on PATH; only one with a '/' is a path.
    if (exec["command"].IsScalar() && exec["command"].Scalar().find('/') != std::string::npos) {
      exec["command"] = ResolvePath(base_dir, exec["command"].Scalar());
    }
  }
}

}  // namespace

std::optional<std::string> LookupProcessEnvironment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

StatusOr<KubeConfig> KubeConfig::FromFile(const std::string& path,
                                          const KubeConfigOptions& options) {
  auto contents = ReadSmallFile(path, 16 << 20);
  if (!contents.ok()) return contents.status().WithContext("reading kubeconfig");
  return FromString(*contents, path, DirectoryOf(path), options);
}

StatusOr<KubeConfig> KubeConfig::FromFiles(const std::vector<std::string>& paths,
                                           const KubeConfigOptions& options) {
  std::vector<std::string> named;
  for (const std::string& path : paths) {
    if (!path.empty()) named.push_back(path);
  }
  if (named.size() == 1) return FromFile(named.front(), options);
  std::string source;
  for (const std::string& path : named) source += (source.empty() ? "" : ":") + path;
  YAML::Node merged(YAML::NodeType::Map);
  std::set<std::string> seen[3];
  constexpr const char* kLists[3] = {"clusters", "users", "contexts"};
  bool any = false;
  for (const std::string& path : named) {
    auto contents = ReadSmallFile(path, 16 << 20);
    if (!contents.ok() && contents.status().code() == StatusCode::kNotFound) continue;
    if (!contents.ok()) return contents.status().WithContext("reading kubeconfig");
    any = true;
    YAML::Node root;
    try {
      root = YAML::Load(*contents);
    } catch (const YAML::Exception& e) {
      return InvalidArgumentError(path + ": not valid YAML at line " +
                                  std::to_string(e.mark.line + 1) + ", column " +
                                  std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (root.IsNull()) continue;  // an empty file sets nothing
    if (!root.IsMap()) return InvalidArgumentError(path + ": expected a kubeconfig map");
    try {
      // An absolute directory, so that a node shared through a YAML alias, resolved twice, is
      // still resolved once.
      AbsolutizePaths(root, DirectoryOf(std::filesystem::absolute(path).string()));
      if (!merged["current-context"].IsDefined() && root["current-context"].IsScalar() &&
          !root["current-context"].Scalar().empty()) {
        merged["current-context"] = root["current-context"].Scalar();
      }
      for (int i = 0; i < 3; ++i) {
        const YAML::Node list = root[kLists[i]];
        if (!list.IsDefined() || list.IsNull()) continue;
        if (!list.IsSequence()) {
          return InvalidArgumentError(path + ": " + kLists[i] + ": expected a list");
        }
        for (const YAML::Node& entry : list) {
          const std::string name =
              entry.IsMap() && entry["name"].IsScalar() ? entry["name"].Scalar() : "";
          // Unnamed entries are kept: the single-file reader reports them with their place.
          if (!name.empty() && !seen[i].insert(name).second) continue;
          merged[kLists[i]].push_back(entry);
        }
      }
    } catch (const std::exception& e) {
      return InvalidArgumentError(path + ": " + e.what());
    }
  }
  if (!any) return NotFoundError("none of the kubeconfig files exists: " + source);
  const Reader reader(source, "");
  auto config = Parse(merged, reader, options);
  if (config.ok()) config->source = source;
  return config;
}

StatusOr<KubeConfig> KubeConfig::FromString(std::string_view yaml, std::string_view source_name,
                                            std::string_view base_dir,
                                            const KubeConfigOptions& options) {
  const Reader reader(source_name, base_dir);
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    auto config = Parse(root, reader, options);
    if (config.ok()) config->source = std::string(source_name);
    return config;
  } catch (const YAML::Exception& e) {
    // The mark locates the problem; the message is yaml-cpp's, which does not quote values.
    return InvalidArgumentError(std::string(source_name) + ": not valid YAML at line " +
                                std::to_string(e.mark.line + 1) + ", column " +
                                std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string(source_name) + ": " + e.what());
  }
}

StatusOr<KubeConfig> KubeConfig::InCluster(const InClusterOptions& options) {
  const auto host = options.getenv("KUBERNETES_SERVICE_HOST");
  const auto port = options.getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return FailedPreconditionError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be "
        "set");
  }
  KubeConfig config;
  config.source = "in-cluster";
  const bool ipv6 = host->find(':') != std::string::npos && host->front() != '[';
  config.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  const std::string dir = options.service_account_dir;
  config.token_file = dir + "/token";
  auto token = ReadSmallFile(config.token_file, std::size_t{64} * 1024);
  if (!token.ok()) {
    return UnauthenticatedError("in-cluster service-account token: " + token.status().message());
  }
  auto ca = ReadSmallFile(dir + "/ca.crt");
  if (!ca.ok()) return ca.status().WithContext("in-cluster CA certificate");
  if (ca->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return InvalidArgumentError(dir + "/ca.crt does not contain a PEM certificate");
  }
  config.certificate_authority_pem = std::move(*ca);
  auto ns = ReadSmallFile(dir + "/namespace", 4096);
  if (ns.ok()) {
    std::string trimmed = *ns;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
      trimmed.pop_back();
    }
    if (!trimmed.empty()) config.namespace_name = trimmed;
  }
  return config;
}

std::string KubeConfig::Describe() const {
  std::string auth;
  if (exec) {
    auth = "exec(" + exec->command + ")";
  } else if (!token_file.empty()) {
    auth = "token-file(" + token_file + ")";
  } else if (!token.empty()) {
    auth = "token";
  }
  if (!client_certificate_pem.empty()) auth += auth.empty() ? "client-cert" : "+client-cert";
  if (auth.empty()) auth = "none";
  std::string out = "server=" + server;
  if (!context_name.empty()) out += " context=" + context_name;
  out += " namespace=" + namespace_name + " auth=" + auth;
  if (!tls_server_name.empty()) out += " tls-server-name=" + tls_server_name;
  return out;
}

std::string KubeConfigLocation::Describe() const {
  if (in_cluster) return "the pod's service account";
  std::string out;
  for (const std::string& file : files) out += (out.empty() ? "" : ":") + file;
  return files.size() > 1 ? out + " (KUBECONFIG)" : out;
}

KubeConfigLocation LocateKubeConfig(const std::string& flag_path, const EnvironmentLookup& getenv,
                                    const std::function<bool(const std::string&)>& file_exists) {
  KubeConfigLocation location;
  if (!flag_path.empty()) {
    location.files = {flag_path};
    return location;
  }
  if (auto env = getenv("KUBECONFIG"); env && !env->empty()) {
    std::size_t start = 0;
    while (start <= env->size()) {
      const std::size_t end = std::min(env->find(':', start), env->size());
      if (end > start) location.files.push_back(env->substr(start, end - start));
      start = end + 1;
    }
    if (!location.files.empty()) return location;
  }
  const auto home = getenv("HOME");
  const std::string home_config = (home ? *home : std::string()) + "/.kube/config";
  const auto service_host = getenv("KUBERNETES_SERVICE_HOST");
  if (!file_exists(home_config) && service_host && !service_host->empty()) {
    location.in_cluster = true;
    return location;
  }
  location.files = {home_config};
  return location;
}

StatusOr<KubeConfig> LoadKubeConfig(const KubeConfigLocation& location,
                                    const KubeConfigOptions& options,
                                    const InClusterOptions& in_cluster) {
  if (!location.in_cluster) return KubeConfig::FromFiles(location.files, options);
  if (!options.context.empty()) {
    return InvalidArgumentError("--context " + options.context +
                                " names a kubeconfig context, but there is no kubeconfig here (in "
                                "a pod, the service account is used)");
  }
  return KubeConfig::InCluster(in_cluster);
}

std::unique_ptr<TokenSource> NewTokenSource(const KubeConfig& config, base::Clock& clock,
                                            CommandRunner& runner, bool stdin_is_terminal) {
  ClientCredentials fixed{config.token, config.client_certificate_pem, config.client_key_pem};
  if (config.exec) {
    return std::make_unique<ExecTokenSource>(
        *config.exec,
        ExecClusterInfo{config.server, config.tls_server_name, config.certificate_authority_pem},
        clock, runner, std::chrono::seconds(30), stdin_is_terminal);
  }
  if (!config.token_file.empty()) {
    fixed.bearer_token.clear();
    return std::make_unique<FileTokenSource>(config.token_file, clock, std::chrono::minutes(1),
                                             std::move(fixed));
  }
  return std::make_unique<StaticTokenSource>(std::move(fixed));
}

}  // namespace ephemera::kube
