#include "cli/identity/identity_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace ephemera::identity {
namespace {

namespace fs = std::filesystem;

class IdentityFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ephemera-identity-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static unsigned ModeOf(const fs::path& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_mode & 07777;
  }
  static std::string Read(const fs::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
  const std::chrono::system_clock::time_point now_{std::chrono::seconds(1'800'000'000)};
};

kube::EnvironmentLookup Env(const std::map<std::string, std::string>& values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(IdentityPathTest, ExplicitThenXdgThenHome) {
  EXPECT_EQ(IdentityPath(Env({{"EPHEMERA_IDENTITY", "/k/id.txt"}, {"HOME", "/home/a"}})),
            "/k/id.txt");
  EXPECT_EQ(IdentityPath(Env({{"XDG_CONFIG_HOME", "/cfg"}, {"HOME", "/home/a"}})),
            "/cfg/ephemera/identity.txt");
  EXPECT_EQ(IdentityPath(Env({{"XDG_CONFIG_HOME", ""}, {"HOME", "/home/a"}})),
            "/home/a/.config/ephemera/identity.txt");
  EXPECT_EQ(IdentityPath(Env({})), "");
}

TEST_F(IdentityFileTest, CreatesFileWithMode0600InDirectoriesWithMode0700) {
  const fs::path path = dir_ / "config" / "ephemera" / "identity.txt";
  ::umask(022);  // a permissive umask must not widen the modes
  auto created = EnsureIdentity(path.string(), now_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->created);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(path.parent_path()), 0700u);
  EXPECT_EQ(ModeOf(path.parent_path().parent_path()), 0700u);
  EXPECT_EQ(created->identity.Recipient().rfind("age1", 0), 0u);

  const std::string text = Read(path);
  EXPECT_NE(text.find("# public key: " + created->identity.Recipient()), std::string::npos);
  EXPECT_NE(text.find("AGE-SECRET-KEY-1"), std::string::npos);
  EXPECT_NE(text.find("# created: 2027-01-15T08:00:00Z"), std::string::npos);
}

TEST_F(IdentityFileTest, SecondEnsureLoadsTheSameIdentity) {
  const fs::path path = dir_ / "identity.txt";
  auto first = EnsureIdentity(path.string(), now_);
  ASSERT_TRUE(first.ok());
  auto second = EnsureIdentity(path.string(), now_);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->identity.Recipient(), first->identity.Recipient());
  auto loaded = LoadIdentity(path.string());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->Recipient(), first->identity.Recipient());
  ASSERT_EQ(loaded->Secrets().size(), 1u);
}

TEST_F(IdentityFileTest, MissingFileIsNotFoundAndSaysHowToCreateOne) {
  auto loaded = LoadIdentity((dir_ / "none.txt").string());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_NE(loaded.status().message().find("kubectl ephemera keys"), std::string::npos);
}

TEST_F(IdentityFileTest, RefusesFileOthersCanReadAndSaysChmod) {
  const fs::path path = dir_ / "identity.txt";
  ASSERT_TRUE(EnsureIdentity(path.string(), now_).ok());
  for (unsigned mode : {0644u, 0640u, 0604u, 0620u}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto loaded = LoadIdentity(path.string());
    ASSERT_FALSE(loaded.ok()) << std::oct << mode;
    EXPECT_EQ(loaded.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(loaded.status().message().find("chmod 600 " + path.string()), std::string::npos);
    // EnsureIdentity must not silently replace it either.
    EXPECT_FALSE(EnsureIdentity(path.string(), now_).ok());
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(LoadIdentity(path.string()).ok());
}

TEST_F(IdentityFileTest, ReadsAgeKeygenFormatAndRejectsGarbageWithoutEchoingIt) {
  const fs::path good = dir_ / "keygen.txt";
  auto made = EnsureIdentity((dir_ / "made.txt").string(), now_);
  ASSERT_TRUE(made.ok());
  {
    std::ofstream out(good);
    out << "# created by age-keygen\n\n" << made->identity.Secrets().front() << "\n";
  }
  ASSERT_EQ(::chmod(good.c_str(), 0600), 0);
  auto loaded = LoadIdentity(good.string());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->Recipient(), made->identity.Recipient());

  const fs::path bad = dir_ / "bad.txt";
  {
    std::ofstream out(bad);
    out << "AGE-SECRET-KEY-1NOTAREALKEYATALL\n";
  }
  ASSERT_EQ(::chmod(bad.c_str(), 0600), 0);
  auto refused = LoadIdentity(bad.string());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message().find("NOTAREALKEY"), std::string::npos);
}

TEST_F(IdentityFileTest, DirectoryInsteadOfFileIsRefused) {
  const fs::path path = dir_ / "adir";
  fs::create_directory(path);
  ::chmod(path.c_str(), 0700);
  auto loaded = LoadIdentity(path.string());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ephemera::identity
