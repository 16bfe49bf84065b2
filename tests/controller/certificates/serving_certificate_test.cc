#include "controller/certificates/serving_certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <ctime>

#include "controller/certificates/x509.h"

namespace ephemera::certificates {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;

const std::vector<std::string> kNames = {"hooks.ops.svc", "hooks.ops.svc.cluster.local", "hooks"};
const system_clock::time_point kNow = std::chrono::sys_days{std::chrono::year{2026} / 3 / 1};
constexpr std::chrono::seconds kYear = hours(24 * 365);

ServingCertificate Issue(const std::vector<std::string>& names = kNames) {
  auto issued = IssueServingCertificate("hooks.ops.svc", names, kYear, kNow);
  EXPECT_TRUE(issued.ok()) << issued.status().ToString();
  return issued.ok() ? *issued : ServingCertificate{};
}

// OpenSSL's own verification of tls.crt against ca.crt for `name` at `at`, as a TLS client does.
int VerifyAsClient(const ServingCertificate& certificate, const std::string& name,
                   system_clock::time_point at) {
  auto leaf = ParseCertificatePem(certificate.cert_pem);
  EXPECT_TRUE(leaf.ok());
  std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>> store(X509_STORE_new());
  for (X509Ptr& ca : ParseCertificatesPem(certificate.ca_pem)) {
    X509_STORE_add_cert(store.get(), ca.get());
  }
  std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>> context(
      X509_STORE_CTX_new());
  X509_STORE_CTX_init(context.get(), store.get(), leaf->get(), nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
  X509_VERIFY_PARAM_set_time(param, system_clock::to_time_t(at));
  X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  X509_verify_cert(context.get());
  return X509_STORE_CTX_get_error(context.get());
}

TEST(ServingCertificateTest, ATlsClientVerifiesItAgainstTheCaForEveryName) {
  const ServingCertificate certificate = Issue();
  for (const std::string& name : kNames) {
    EXPECT_EQ(VerifyAsClient(certificate, name, kNow), X509_V_OK) << name;
  }
  EXPECT_EQ(VerifyAsClient(certificate, "other.ops.svc", kNow), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(VerifyAsClient(certificate, "hooks", kNow + kYear + hours(1)),
            X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST(ServingCertificateTest, TheCaKeyIsNotKept) {
  const ServingCertificate certificate = Issue();
  EXPECT_EQ(certificate.ca_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(certificate.cert_pem.find("PRIVATE KEY"), std::string::npos);
  // tls.key is the serving certificate's key, not the CA's.
  auto key = ParsePrivateKeyPem(certificate.key_pem);
  auto ca = ParseCertificatePem(certificate.ca_pem);
  auto leaf = ParseCertificatePem(certificate.cert_pem);
  ASSERT_TRUE(key.ok() && ca.ok() && leaf.ok());
  EXPECT_EQ(X509_check_private_key(leaf->get(), key->get()), 1);
  EXPECT_NE(X509_check_private_key(ca->get(), key->get()), 1);
}

TEST(ServingCertificateTest, EachIssueIsANewCaAndKey) {
  const ServingCertificate first = Issue();
  const ServingCertificate second = Issue();
  EXPECT_NE(first.ca_pem, second.ca_pem);
  EXPECT_NE(first.key_pem, second.key_pem);
  // The second CA did not sign the first certificate.
  EXPECT_FALSE(CheckServingCertificate({second.ca_pem, first.cert_pem, first.key_pem}, kNames, kNow,
                                       hours(1))
                   .ok());
}

TEST(ServingCertificateTest, AddressesBecomeIpNames) {
  const ServingCertificate certificate = Issue({"localhost", "127.0.0.1"});
  EXPECT_TRUE(
      CheckServingCertificate(certificate, {"localhost", "127.0.0.1"}, kNow, hours(1)).ok());
  EXPECT_FALSE(CheckServingCertificate(certificate, {"127.0.0.2"}, kNow, hours(1)).ok());
}

TEST(ServingCertificateTest, RefusesBadNamesAndValidity) {
  EXPECT_EQ(IssueServingCertificate("x", {"Hooks_Upper"}, kYear, kNow).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueServingCertificate("x", {}, kYear, kNow).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueServingCertificate("x", kNames, std::chrono::minutes(5), kNow).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CheckServingCertificateTest, AcceptsAFreshCertificate) {
  EXPECT_TRUE(CheckServingCertificate(Issue(), kNames, kNow, kYear / 3).ok());
}

TEST(CheckServingCertificateTest, SaysWhatIsWrong) {
  const ServingCertificate good = Issue();
  const ServingCertificate other = Issue();
  struct Case {
    const char* what;
    ServingCertificate certificate;
    std::vector<std::string> names;
    system_clock::time_point now;
    std::string message;
  };
  const Case cases[] = {
      {"garbage certificate",
       {good.ca_pem, "not a certificate", good.key_pem},
       kNames,
       kNow,
       "tls.crt holds no PEM certificate"},
      {"no key",
       {good.ca_pem, good.cert_pem, ""},
       kNames,
       kNow,
       "tls.key holds no PEM private key"},
      {"another key",
       {good.ca_pem, good.cert_pem, other.key_pem},
       kNames,
       kNow,
       "tls.key is not the key of tls.crt"},
      {"another CA",
       {other.ca_pem, good.cert_pem, good.key_pem},
       kNames,
       kNow,
       "no CA in ca.crt signed tls.crt"},
      {"no CA", {"", good.cert_pem, good.key_pem}, kNames, kNow, "no CA in ca.crt signed tls.crt"},
      {"a name it lacks",
       good,
       {"hooks.other.svc"},
       kNow,
       "tls.crt is not valid for hooks.other.svc"},
      {"before it is valid", good, kNames, kNow - hours(2), "not valid now"},
      {"expired", good, kNames, kNow + kYear + hours(1), "not valid now"},
      {"expiring", good, kNames, kNow + kYear - kYear / 4, "expires within"},
  };
  for (const Case& c : cases) {
    const Status checked = CheckServingCertificate(c.certificate, c.names, c.now, kYear / 3);
    EXPECT_EQ(checked.code(), StatusCode::kFailedPrecondition) << c.what;
    EXPECT_NE(checked.message().find(c.message), std::string::npos)
        << c.what << ": " << checked.ToString();
  }
}

TEST(CheckServingCertificateTest, AnEncryptedKeyIsRefusedWithoutAPrompt) {
  const ServingCertificate good = Issue();
  auto key = ParsePrivateKeyPem(good.key_pem);
  ASSERT_TRUE(key.ok());
  std::unique_ptr<BIO, OpenSslDeleter<BIO_free>> bio(BIO_new(BIO_s_mem()));
  char passphrase[] = "hostile";
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), key->get(), EVP_aes_128_cbc(),
                                     reinterpret_cast<unsigned char*>(passphrase),
                                     static_cast<int>(sizeof passphrase - 1), nullptr, nullptr),
            1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  const std::string encrypted(data, static_cast<std::size_t>(size));
  ASSERT_NE(encrypted.find("ENCRYPTED"), std::string::npos);
  EXPECT_EQ(ParsePrivateKeyPem(encrypted).status().code(), StatusCode::kInvalidArgument);
  const Status checked =
      CheckServingCertificate({good.ca_pem, good.cert_pem, encrypted}, kNames, kNow, hours(1));
  EXPECT_NE(checked.message().find("tls.key holds no PEM private key"), std::string::npos)
      << checked.ToString();
}

TEST(CheckServingCertificateTest, FindsTheSignerAnywhereInTheBundle) {
  const ServingCertificate good = Issue();
  const ServingCertificate other = Issue();
  EXPECT_TRUE(CheckServingCertificate({other.ca_pem + good.ca_pem, good.cert_pem, good.key_pem},
                                      kNames, kNow, hours(1))
                  .ok());
}

}  // namespace
}  // namespace ephemera::certificates
