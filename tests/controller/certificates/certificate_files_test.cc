#include "controller/certificates/certificate_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace ephemera::certificates {
namespace {

class CertificateFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "certificate-files-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  struct stat Stat(const std::string& name) {
    struct stat st {};
    EXPECT_EQ(stat((dir_ + "/" + name).c_str(), &st), 0) << name;
    return st;
  }

  std::string dir_;
};

TEST_F(CertificateFilesTest, WritesTheKeyPrivately) {
  ASSERT_TRUE(WriteServingFiles(dir_, {.ca_pem = "ca", .cert_pem = "cert", .key_pem = "key"}).ok());
  EXPECT_EQ(Read("tls.crt"), "cert");
  EXPECT_EQ(Read("tls.key"), "key");
  EXPECT_EQ(Stat("tls.key").st_mode & 0777, 0600u);
  EXPECT_EQ(Stat("tls.crt").st_mode & 0777, 0644u);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/ca.crt"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/tls.key.new"));
}

TEST_F(CertificateFilesTest, ReplacesByRenameAndLeavesSameBytesAlone) {
  ASSERT_TRUE(WriteServingFiles(dir_, {.cert_pem = "cert-1", .key_pem = "key-1"}).ok());
  const ino_t key_inode = Stat("tls.key").st_ino;
  const ino_t cert_inode = Stat("tls.crt").st_ino;
  ASSERT_TRUE(WriteServingFiles(dir_, {.cert_pem = "cert-1", .key_pem = "key-1"}).ok());
  EXPECT_EQ(Stat("tls.key").st_ino, key_inode);  // untouched: the server sees no change
  ASSERT_TRUE(WriteServingFiles(dir_, {.cert_pem = "cert-2", .key_pem = "key-2"}).ok());
  EXPECT_NE(Stat("tls.crt").st_ino, cert_inode);  // a new file renamed over the old one
  EXPECT_EQ(Read("tls.crt"), "cert-2");
  EXPECT_EQ(Read("tls.key"), "key-2");
}

TEST_F(CertificateFilesTest, AMissingDirectoryIsUnavailable) {
  const Status written = WriteServingFiles(dir_ + "/absent", {.cert_pem = "c", .key_pem = "k"});
  EXPECT_EQ(written.code(), StatusCode::kUnavailable);
  EXPECT_NE(written.message().find("absent/tls.key"), std::string::npos) << written.ToString();
}

}  // namespace
}  // namespace ephemera::certificates
