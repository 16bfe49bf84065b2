#include "controller/metrics/self_signed_certificate.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>

namespace ephemera::metrics {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

Status OpenSslFailure(std::string_view what) {
  char buffer[256] = {};
  ERR_error_string_n(ERR_get_error(), buffer, sizeof(buffer));
  ERR_clear_error();
  return InternalError("self-signed metrics certificate: " + std::string(what) + ": " + buffer);
}

bool IsDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

Status AddExtension(X509* certificate, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
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

Status WriteFile(const std::string& path, const std::string& contents, mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return UnavailableError("cannot create " + path + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      close(fd);
      return UnavailableError("cannot write " + path + ": " + std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  if (close(fd) != 0) return UnavailableError("cannot write " + path + ": " + std::strerror(errno));
  return OkStatus();
}

struct PemPair {
  std::string certificate;
  std::string key;
};

StatusOr<PemPair> MakePair(const std::vector<std::string>& dns_names, std::chrono::hours validity) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslFailure("key generation");
  X509Ptr certificate(X509_new());
  if (!certificate || X509_set_version(certificate.get(), 2) != 1) return OpenSslFailure("X509");
  // A random positive 63-bit serial number: a new certificate at every start.
  std::unique_ptr<BIGNUM, Deleter<BN_free>> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())) == nullptr) {
    return OpenSslFailure("serial number");
  }
  // Valid from an hour ago, for scrapers whose clock is a little behind.
  if (X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(certificate.get()),
                      std::chrono::duration_cast<std::chrono::seconds>(validity).count()) ==
          nullptr) {
    return OpenSslFailure("validity");
  }
  X509_NAME* name = X509_get_subject_name(certificate.get());
  const auto* common_name = reinterpret_cast<const unsigned char*>("ephemera-controller metrics");
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, common_name, -1, -1, 0) != 1 ||
      X509_set_issuer_name(certificate.get(), name) != 1 ||
      X509_set_pubkey(certificate.get(), key.get()) != 1) {
    return OpenSslFailure("subject");
  }
  std::string alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const std::string& dns : dns_names) alt_names += ",DNS:" + dns;
  EPHEMERA_RETURN_IF_ERROR(AddExtension(certificate.get(), NID_subject_alt_name, alt_names));
  EPHEMERA_RETURN_IF_ERROR(
      AddExtension(certificate.get(), NID_key_usage, "critical,digitalSignature,keyCertSign"));
  EPHEMERA_RETURN_IF_ERROR(AddExtension(certificate.get(), NID_ext_key_usage, "serverAuth"));
  // Its own CA, so that a scraper can trust exactly this certificate.
  EPHEMERA_RETURN_IF_ERROR(
      AddExtension(certificate.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  if (X509_sign(certificate.get(), key.get(), EVP_sha256()) == 0) return OpenSslFailure("signing");
  auto certificate_pem = Pem([&](BIO* bio) { return PEM_write_bio_X509(bio, certificate.get()); });
  if (!certificate_pem.ok()) return certificate_pem.status();
  auto key_pem = Pem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (!key_pem.ok()) return key_pem.status();
  return PemPair{std::move(*certificate_pem), std::move(*key_pem)};
}

}  // namespace

StatusOr<SelfSignedCertificate> WriteSelfSignedCertificate(
    const std::string& parent_dir, const std::vector<std::string>& dns_names,
    std::chrono::hours validity) {
  for (const std::string& dns : dns_names) {
    if (!IsDnsName(dns)) {
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
  Status written = WriteFile(result.key_file, pair->key, 0600);
  if (written.ok()) written = WriteFile(result.cert_file, pair->certificate, 0644);
  if (!written.ok()) {
    std::error_code ignored;
    std::filesystem::remove_all(result.dir, ignored);
    return written;
  }
  return result;
}

}  // namespace ephemera::metrics
