// The serving certificates the controller makes for itself (certificates.mode controller): a CA
// made for the purpose, whose private key is dropped as soon as it has signed, and a serving
// certificate it signs. Nobody who reads the result can issue another certificate the API server
// would trust. Pure apart from OpenSSL's random numbers.
#ifndef EPHEMERA_CONTROLLER_CERTIFICATES_SERVING_CERTIFICATE_H_
#define EPHEMERA_CONTROLLER_CERTIFICATES_SERVING_CERTIFICATE_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::certificates {

struct ServingCertificate {
  std::string ca_pem{};  // ca.crt: what clients verify against (during a renewal, also the old CA)
  std::string cert_pem{};  // tls.crt
  std::string key_pem{};   // tls.key
};

// A new CA named `common_name` and a certificate it signs for `names` (DNS names or addresses),
// both valid from `now` for `validity`. kInvalidArgument for a bad name or validity; kInternal when
// OpenSSL fails.
StatusOr<ServingCertificate> IssueServingCertificate(std::string_view common_name,
                                                     const std::vector<std::string>& names,
                                                     std::chrono::seconds validity,
                                                     std::chrono::system_clock::time_point now);

// OK when `certificate` can serve every one of `names` from `now` for at least `renew_before`:
// tls.crt parses, tls.key is its key, a CA in ca.crt signed it, and neither it nor that CA expires
// before now + renew_before. Otherwise kFailedPrecondition saying which of those fails.
Status CheckServingCertificate(const ServingCertificate& certificate,
                               const std::vector<std::string>& names,
                               std::chrono::system_clock::time_point now,
                               std::chrono::seconds renew_before);

}  // namespace ephemera::certificates

#endif  // EPHEMERA_CONTROLLER_CERTIFICATES_SERVING_CERTIFICATE_H_
