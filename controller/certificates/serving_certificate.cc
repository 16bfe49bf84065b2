#include "controller/certificates/serving_certificate.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "controller/certificates/x509.h"

namespace ephemera::certificates {
namespace {

bool CoversName(X509* certificate, const std::string& name) {
  const int matched = IsIpAddress(name) ? X509_check_ip_asc(certificate, name.c_str(), 0)
                                        : X509_check_host(certificate, name.data(), name.size(),
                                                          X509_CHECK_FLAG_NO_WILDCARDS, nullptr);
  ERR_clear_error();
  return matched == 1;
}

// True when `certificate` is still valid at `at` (seconds since the epoch).
bool ValidAt(X509* certificate, std::time_t at) {
  return X509_cmp_time(X509_get0_notAfter(certificate), &at) > 0 &&
         X509_cmp_time(X509_get0_notBefore(certificate), &at) < 0;
}

}  // namespace

StatusOr<ServingCertificate> IssueServingCertificate(std::string_view common_name,
                                                     const std::vector<std::string>& names,
                                                     std::chrono::seconds validity,
                                                     std::chrono::system_clock::time_point now) {
  if (validity < std::chrono::hours(1)) {
    return InvalidArgumentError("certificate validity must be at least 1h");
  }
  if (names.empty()) return InvalidArgumentError("a serving certificate needs at least one name");
  auto ca_key = NewKey();
  if (!ca_key.ok()) return ca_key.status();
  auto ca = SignCertificate({.common_name = std::string(common_name) + " CA",
                             .is_ca = true,
                             .serves_tls = false,
                             .issued_at = now,
                             .validity = validity},
                            ca_key->get(), nullptr, nullptr);
  if (!ca.ok()) return ca.status();
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto certificate = SignCertificate({.common_name = std::string(common_name),
                                      .names = names,
                                      .issued_at = now,
                                      .validity = validity},
                                     key->get(), ca->get(), ca_key->get());
  if (!certificate.ok()) return certificate.status();
  ca_key->reset();  // it has signed what it is for; it is never stored
  auto ca_pem = CertificatePem(ca->get());
  if (!ca_pem.ok()) return ca_pem.status();
  auto cert_pem = CertificatePem(certificate->get());
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = PrivateKeyPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  return ServingCertificate{std::move(*ca_pem), std::move(*cert_pem), std::move(*key_pem)};
}

Status CheckServingCertificate(const ServingCertificate& certificate,
                               const std::vector<std::string>& names,
                               std::chrono::system_clock::time_point now,
                               std::chrono::seconds renew_before) {
  auto leaf = ParseCertificatePem(certificate.cert_pem);
  if (!leaf.ok()) return FailedPreconditionError("tls.crt holds no PEM certificate");
  auto key = ParsePrivateKeyPem(certificate.key_pem);
  if (!key.ok()) return FailedPreconditionError("tls.key holds no PEM private key");
  const bool key_matches = X509_check_private_key(leaf->get(), key->get()) == 1;
  ERR_clear_error();
  if (!key_matches) return FailedPreconditionError("tls.key is not the key of tls.crt");
  const std::time_t now_seconds = std::chrono::system_clock::to_time_t(now);
  const std::time_t renew_at = std::chrono::system_clock::to_time_t(now + renew_before);
  X509* signer = nullptr;
  std::vector<X509Ptr> cas = ParseCertificatesPem(certificate.ca_pem);
  for (X509Ptr& ca : cas) {
    EVP_PKEY* ca_key = X509_get0_pubkey(ca.get());
    const bool signed_by = ca_key != nullptr && X509_verify(leaf->get(), ca_key) == 1;
    ERR_clear_error();
    if (signed_by) {
      signer = ca.get();
      break;
    }
  }
  if (signer == nullptr) return FailedPreconditionError("no CA in ca.crt signed tls.crt");
  if (!ValidAt(leaf->get(), now_seconds) || !ValidAt(signer, now_seconds)) {
    return FailedPreconditionError("tls.crt or its CA is not valid now");
  }
  if (!ValidAt(leaf->get(), renew_at) || !ValidAt(signer, renew_at)) {
    return FailedPreconditionError("tls.crt or its CA expires within " +
                                   std::to_string(renew_before.count() / 3600) + "h");
  }
  for (const std::string& name : names) {
    if (!CoversName(leaf->get(), name)) {
      return FailedPreconditionError("tls.crt is not valid for " + name);
    }
  }
  return OkStatus();
}

}  // namespace ephemera::certificates
