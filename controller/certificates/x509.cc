#include "controller/certificates/x509.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <functional>

namespace ephemera::certificates {
namespace {

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;

Status OpenSslFailure(std::string_view what) {
  char buffer[256] = {};
  ERR_error_string_n(ERR_get_error(), buffer, sizeof(buffer));
  ERR_clear_error();
  return InternalError("certificate: " + std::string(what) + ": " + buffer);
}

Status AddExtension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return OpenSslFailure("extension " + value);
  }
  return OkStatus();
}

StatusOr<std::string> Pem(const std::function<int(BIO*)>& write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return OpenSslFailure("PEM encoding");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// Secrets hold at most 1 MiB; anything larger is not read.
BioPtr ReadOnlyBio(std::string_view pem) {
  if (pem.size() > (std::size_t{1} << 20)) return nullptr;
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

}  // namespace

bool IsIpAddress(const std::string& name) {
  unsigned char bytes[16];
  return inet_pton(AF_INET, name.c_str(), bytes) == 1 ||
         inet_pton(AF_INET6, name.c_str(), bytes) == 1;
}

bool IsDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

StatusOr<PkeyPtr> NewKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslFailure("key generation");
  return key;
}

StatusOr<X509Ptr> SignCertificate(const CertificateSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                                  EVP_PKEY* issuer_key) {
  std::string alt_names;
  for (const std::string& name : spec.names) {
    if (IsIpAddress(name)) {
      alt_names += (alt_names.empty() ? "IP:" : ",IP:") + name;
    } else if (IsDnsName(name)) {
      alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + name;
    } else {
      return InvalidArgumentError("certificate: \"" + name +
                                  "\" is neither an IP address nor a DNS name (lower-case "
                                  "letters, digits, '-', '.')");
    }
  }
  X509Ptr certificate(X509_new());
  if (!certificate || X509_set_version(certificate.get(), 2) != 1) return OpenSslFailure("X509");
  std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())) == nullptr) {
    return OpenSslFailure("serial number");
  }
  std::time_t issued_at = std::chrono::system_clock::to_time_t(spec.issued_at);
  if (X509_time_adj(X509_getm_notBefore(certificate.get()), -3600, &issued_at) == nullptr ||
      X509_time_adj(X509_getm_notAfter(certificate.get()), spec.validity.count(), &issued_at) ==
          nullptr) {
    return OpenSslFailure("validity");
  }
  X509_NAME* name = X509_get_subject_name(certificate.get());
  const auto* common_name = reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, common_name, -1, -1, 0) != 1 ||
      X509_set_issuer_name(certificate.get(),
                           issuer == nullptr ? name : X509_get_subject_name(issuer)) != 1 ||
      X509_set_pubkey(certificate.get(), subject_key) != 1) {
    return OpenSslFailure("subject");
  }
  X509* signer = issuer == nullptr ? certificate.get() : issuer;
  if (!alt_names.empty()) {
    EPHEMERA_RETURN_IF_ERROR(
        AddExtension(certificate.get(), signer, NID_subject_alt_name, alt_names));
  }
  EPHEMERA_RETURN_IF_ERROR(AddExtension(
      certificate.get(), signer, NID_key_usage,
      spec.is_ca ? "critical,digitalSignature,keyCertSign" : "critical,digitalSignature"));
  if (spec.serves_tls) {
    EPHEMERA_RETURN_IF_ERROR(
        AddExtension(certificate.get(), signer, NID_ext_key_usage, "serverAuth"));
  }
  EPHEMERA_RETURN_IF_ERROR(AddExtension(certificate.get(), signer, NID_basic_constraints,
                                        spec.is_ca ? "critical,CA:TRUE,pathlen:0" : "CA:FALSE"));
  EPHEMERA_RETURN_IF_ERROR(
      AddExtension(certificate.get(), signer, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) {
    EPHEMERA_RETURN_IF_ERROR(
        AddExtension(certificate.get(), signer, NID_authority_key_identifier, "keyid:always"));
  }
  if (X509_sign(certificate.get(), issuer == nullptr ? subject_key : issuer_key, EVP_sha256()) ==
      0) {
    return OpenSslFailure("signing");
  }
  return certificate;
}

StatusOr<std::string> CertificatePem(X509* certificate) {
  return Pem([&](BIO* bio) { return PEM_write_bio_X509(bio, certificate); });
}

StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key) {
  return Pem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

StatusOr<X509Ptr> ParseCertificatePem(std::string_view pem) {
  std::vector<X509Ptr> certificates = ParseCertificatesPem(pem);
  if (certificates.empty()) return InvalidArgumentError("no PEM certificate");
  return std::move(certificates.front());
}

std::vector<X509Ptr> ParseCertificatesPem(std::string_view pem) {
  std::vector<X509Ptr> certificates;
  BioPtr bio = ReadOnlyBio(pem);
  while (bio) {
    X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!certificate) break;
    certificates.push_back(std::move(certificate));
  }
  ERR_clear_error();
  return certificates;
}

StatusOr<PkeyPtr> ParsePrivateKeyPem(std::string_view pem) {
  BioPtr bio = ReadOnlyBio(pem);
  // No passphrase: an encrypted key fails here instead of OpenSSL asking on a terminal.
  const auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  ERR_clear_error();
  if (!key) return InvalidArgumentError("no PEM private key");
  return key;
}

}  // namespace ephemera::certificates
