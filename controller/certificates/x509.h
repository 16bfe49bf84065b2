// Building X.509 certificates with OpenSSL: ECDSA P-256 keys, certificates signed by themselves or
// by a CA, PEM encoding. Shared by the self-signed /metrics certificate (metrics/) and the serving
// certificates the controller keeps in Secrets (serving_certificate.h).
#ifndef EPHEMERA_CONTROLLER_CERTIFICATES_X509_H_
#define EPHEMERA_CONTROLLER_CERTIFICATES_X509_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::certificates {

template <auto Free>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;

// What a certificate says about its subject.
struct CertificateSpec {
  std::string common_name{};
  // Names it is valid for: DNS names, and IPv4/IPv6 addresses (written as addresses).
  std::vector<std::string> names{};
  bool is_ca = false;      // a CA that signs leaf certificates only (pathlen 0)
  bool serves_tls = true;  // extendedKeyUsage serverAuth
  std::chrono::system_clock::time_point issued_at{};  // "now" for its validity
  std::chrono::seconds validity{};
};

// A fresh ECDSA P-256 key; kInternal when OpenSSL fails.
StatusOr<PkeyPtr> NewKey();

// A certificate for `subject_key` as `spec` says, valid from an hour before spec.issued_at (for
// clients whose clock is a little behind) until spec.validity after it, with a random 63-bit serial
// number. Signed by `issuer` with `issuer_key`, or by `subject_key` itself when `issuer` is null.
// kInvalidArgument for a name that is neither an address nor a DNS name (lower-case letters,
// digits, '-', '.'); kInternal when OpenSSL fails.
StatusOr<X509Ptr> SignCertificate(const CertificateSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                                  EVP_PKEY* issuer_key);

StatusOr<std::string> CertificatePem(X509* certificate);
StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key);

// The first certificate in `pem`; kInvalidArgument when there is none.
StatusOr<X509Ptr> ParseCertificatePem(std::string_view pem);
// Every certificate in `pem`, in order (none for text without one).
std::vector<X509Ptr> ParseCertificatesPem(std::string_view pem);
StatusOr<PkeyPtr> ParsePrivateKeyPem(std::string_view pem);

// True for a DNS name as certificates here carry them: 1..253 of [a-z0-9.-].
bool IsDnsName(std::string_view name);
// True for an IPv4 or IPv6 address.
bool IsIpAddress(const std::string& name);

}  // namespace ephemera::certificates

#endif  // EPHEMERA_CONTROLLER_CERTIFICATES_X509_H_
