#include "controller/metrics/self_signed_certificate.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "controller/certificates/certificate_files.h"
#include "controller/certificates/x509.h"

namespace ephemera::metrics {
namespace {

struct PemPair {
  std::string certificate;
  std::string key;
};

// Its own CA (pathlen 0), so that a scraper can trust exactly this certificate.
StatusOr<PemPair> MakePair(const std::vector<std::string>& dns_names, std::chrono::hours validity) {
  auto key = certificates::NewKey();
  if (!key.ok()) return key.status();
  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  names.insert(names.end(), dns_names.begin(), dns_names.end());
  auto certificate = certificates::SignCertificate({.common_name = "ephemera-controller metrics",
                                                    .names = names,
                                                    .is_ca = true,
                                                    .issued_at = std::chrono::system_clock::now(),
                                                    .validity = validity},
                                                   key->get(), nullptr, nullptr);
  if (!certificate.ok()) return certificate.status();
  auto certificate_pem = certificates::CertificatePem(certificate->get());
  if (!certificate_pem.ok()) return certificate_pem.status();
  auto key_pem = certificates::PrivateKeyPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  return PemPair{std::move(*certificate_pem), std::move(*key_pem)};
}

}  // namespace

StatusOr<SelfSignedCertificate> WriteSelfSignedCertificate(
    const std::string& parent_dir, const std::vector<std::string>& dns_names,
    std::chrono::hours validity) {
  for (const std::string& dns : dns_names) {
    if (!certificates::IsDnsName(dns)) {
      return InvalidArgumentError("self-signed metrics certificate: \"" + dns +
                                  "\" is not a DNS name (lower-case letters, digits, '-', '.')");
    }
  }
  auto pair = MakePair(dns_names, validity);
  if (!pair.ok()) return pair.status();
  std::string pattern =
      (parent_dir.empty() ? std::string("/tmp") : parent_dir) + "/ephemera-metrics-tls-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {  // mode 0700
    return UnavailableError(
        "cannot create a directory for the self-signed metrics certificate in " + parent_dir +
        ": " + std::strerror(errno));
  }
  SelfSignedCertificate result{pattern, pattern + "/tls.crt", pattern + "/tls.key"};
  const Status written = certificates::WriteServingFiles(
      result.dir, {.cert_pem = pair->certificate, .key_pem = pair->key});
  if (!written.ok()) {
    std::error_code ignored;
    std::filesystem::remove_all(result.dir, ignored);
    return written;
  }
  return result;
}

}  // namespace ephemera::metrics
