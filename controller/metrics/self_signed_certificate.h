// A serving certificate made at start for /metrics when none is configured (--metrics-cert-dir
// empty), as controller-runtime does: a fresh ECDSA P-256 key and a self-signed certificate for
// `dns_names` plus localhost and 127.0.0.1, written as tls.crt and tls.key into a new private
// directory (mode 0700, key 0600). Scrapers then either skip verification or trust that tls.crt.
#ifndef EPHEMERA_CONTROLLER_METRICS_SELF_SIGNED_CERTIFICATE_H_
#define EPHEMERA_CONTROLLER_METRICS_SELF_SIGNED_CERTIFICATE_H_

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace ephemera::metrics {

struct SelfSignedCertificate {
  std::string dir;        // the new directory (the caller removes it when done)
  std::string cert_file;  // <dir>/tls.crt
  std::string key_file;   // <dir>/tls.key
};

// Creates the directory under `parent_dir` (e.g. $TMPDIR or /tmp). kInvalidArgument for an
// unusable DNS name (empty, or not [a-z0-9.-]); kInternal when OpenSSL fails; kUnavailable when the
// files cannot be written. Leaves nothing behind on error.
StatusOr<SelfSignedCertificate> WriteSelfSignedCertificate(
    const std::string& parent_dir, const std::vector<std::string>& dns_names,
    std::chrono::hours validity);

}  // namespace ephemera::metrics

#endif  // EPHEMERA_CONTROLLER_METRICS_SELF_SIGNED_CERTIFICATE_H_
