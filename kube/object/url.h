// URL pieces for API requests: RFC 3986 percent-encoding and an ordered query-string builder.
#ifndef EPHEMERA_KUBE_OBJECT_URL_H_
#define EPHEMERA_KUBE_OBJECT_URL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ephemera::kube {

// Percent-encodes every byte except the RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~), so the
// result is safe as a path segment or as a query key or value ("app=web,tier!=db" becomes
// "app%3Dweb%2Ctier%21%3Ddb"; a space becomes "%20").
std::string PercentEncode(std::string_view text);

// An ordered list of query parameters. Encode() gives "?k=v&k2=v2" (or "" when empty), with keys
// and values percent-encoded. Parameters are emitted in insertion order; duplicates are kept.
class Query {
 public:
  Query& Add(std::string_view key, std::string_view value);
  // Adds only when `value` is non-empty: convenient for optional selectors.
  Query& AddIfNotEmpty(std::string_view key, std::string_view value);
  Query& AddInt(std::string_view key, long long value);
  // "true" / "false".
  Query& AddBool(std::string_view key, bool value);

  bool IsEmpty() const { return params_.empty(); }
  const std::vector<std::pair<std::string, std::string>>& Params() const { return params_; }
  std::string Encode() const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_OBJECT_URL_H_
