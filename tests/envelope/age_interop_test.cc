// Interoperability with the reference age implementation (Debian's `age` and `age-keygen`): what
// we write, `age -d` reads; what `age -r` writes, binary or armored, we read. Runs the real
// binaries (fork/exec) on files in a private temporary directory. Label: component.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "envelope/envelope.h"
#include "envelope/gzip.h"

namespace ephemera::envelope {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string FindInPath(const std::string& name) {
  const char* path = getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir;
    candidate.append("/").append(name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::filesystem::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

class AgeInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    age_ = FindInPath("age");
    age_keygen_ = FindInPath("age-keygen");
    ASSERT_FALSE(age_.empty() || age_keygen_.empty())
        << "the age and age-keygen binaries are required for the interop tests but were not "
           "found in PATH; run `make deps` (installs Debian's age package)";
    char tmpl[] = "/tmp/ephemera-envelope-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs argv with stdin from /dev/null, capturing stdout and stderr through files in dir_.
  RunResult Run(const std::vector<std::string>& argv) {
    const std::filesystem::path out_path = dir_ / "stdout";
    const std::filesystem::path err_path = dir_ / "stderr";
    const pid_t pid = fork();
    if (pid == 0) {
      const int in = open("/dev/null", O_RDONLY);
      const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0) _exit(126);
      dup2(in, 0);
      dup2(out, 1);
      dup2(err, 2);
      std::vector<char*> args;
      args.reserve(argv.size() + 1);
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    RunResult result;
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadFile(out_path);
    result.err = ReadFile(err_path);
    return result;
  }

  // A key file from age-keygen, and its identity and recipient as parsed by us.
  struct KeygenKey {
    std::filesystem::path file;
    std::string identity;
    std::string recipient;
  };
  KeygenKey Keygen(const std::string& name) {
    KeygenKey key;
    key.file = dir_ / name;
    RunResult r = Run({age_keygen_, "-o", key.file.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    StatusOr<std::vector<std::string>> ids = ParseIdentities(ReadFile(key.file));
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    if (ids.ok() && ids->size() == 1) key.identity = (*ids)[0];
    RunResult y = Run({age_keygen_, "-y", key.file.string()});
    EXPECT_EQ(y.exit_code, 0) << y.err;
    key.recipient = y.out.substr(0, y.out.find('\n'));
    return key;
  }

  // Writes our own identity in age-keygen's file format.
  std::filesystem::path WriteIdentity(const std::string& name, const X25519Identity& id) {
    std::filesystem::path path = dir_ / name;
    WriteFile(path, "# public key: " + id.recipient + "\n" + id.identity + "\n");
    chmod(path.c_str(), 0600);
    return path;
  }

  static std::string Pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919 + i / 3) & 0xff);
    return s;
  }

  std::string age_;
  std::string age_keygen_;
  std::filesystem::path dir_;
};

TEST_F(AgeInteropTest, OurRecipientDerivationMatchesAgeKeygen) {
  KeygenKey key = Keygen("key.txt");
  StatusOr<std::string> recipient = RecipientOf(key.identity);
  ASSERT_TRUE(recipient.ok()) << recipient.status().ToString();
  EXPECT_EQ(*recipient, key.recipient);
}

TEST_F(AgeInteropTest, AgeDecryptsOurSeal) {
  KeygenKey key = Keygen("key.txt");
  const std::string plaintext = "{\"schema\":\"ephemera.dev/snapshot/v1\"}\n" + Pattern(150000);
  StatusOr<std::string> sealed = Seal(plaintext, {key.recipient});
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  WriteFile(dir_ / "snapshot.age", *sealed);
  RunResult r = Run({age_, "-d", "-i", key.file.string(), "-o", (dir_ / "snapshot.gz").string(),
                     (dir_ / "snapshot.age").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The inner layer is plain gzip: the system's gzip must read it too.
  const std::string gzip = FindInPath("gzip");
  ASSERT_FALSE(gzip.empty()) << "gzip not found in PATH; run `make deps`";
  RunResult g = Run({gzip, "-dc", (dir_ / "snapshot.gz").string()});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out, plaintext);
}

TEST_F(AgeInteropTest, AgeDecryptsOurBinaryEncryptAtChunkBoundaries) {
  KeygenKey key = Keygen("key.txt");
  for (size_t size : {size_t{0}, size_t{1}, kPayloadChunkBytes, 2 * kPayloadChunkBytes + 3}) {
    const std::string plaintext = Pattern(size);
    StatusOr<std::string> file = Encrypt(plaintext, {key.recipient});
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    WriteFile(dir_ / "in.age", *file);
    RunResult r = Run({age_, "-d", "-i", key.file.string(), (dir_ / "in.age").string()});
    ASSERT_EQ(r.exit_code, 0) << size << ": " << r.err;
    EXPECT_EQ(r.out, plaintext) << size;
  }
}

TEST_F(AgeInteropTest, AgeDecryptsWithOneOfSeveralRecipients) {
  KeygenKey first = Keygen("first.txt");
  KeygenKey second = Keygen("second.txt");
  StatusOr<std::string> file = Encrypt("shared", {first.recipient, second.recipient});
  ASSERT_TRUE(file.ok());
  WriteFile(dir_ / "in.age", Armor(*file));
  RunResult r = Run({age_, "-d", "-i", second.file.string(), (dir_ / "in.age").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "shared");
}

TEST_F(AgeInteropTest, AgeRejectsOurFileForAnotherKey) {
  KeygenKey owner = Keygen("owner.txt");
  KeygenKey other = Keygen("other.txt");
  StatusOr<std::string> sealed = Seal("secret", {owner.recipient});
  ASSERT_TRUE(sealed.ok());
  WriteFile(dir_ / "in.age", *sealed);
  RunResult r = Run({age_, "-d", "-i", other.file.string(), (dir_ / "in.age").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(r.out.empty());
}

TEST_F(AgeInteropTest, WeDecryptAgeArmoredOutput) {
  StatusOr<X25519Identity> id = GenerateIdentity();
  ASSERT_TRUE(id.ok());
  const std::string plaintext = Pattern(3 * kPayloadChunkBytes + 17);
  WriteFile(dir_ / "plain", plaintext);
  RunResult r = Run({age_, "-r", id->recipient, "-a", "-o", (dir_ / "out.age").string(),
                     (dir_ / "plain").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string armored = ReadFile(dir_ / "out.age");
  ASSERT_EQ(armored.substr(0, kArmorBegin.size()), kArmorBegin);
  StatusOr<std::string> decrypted = Decrypt(armored, {id->identity});
  ASSERT_TRUE(decrypted.ok()) << decrypted.status().ToString();
  EXPECT_EQ(*decrypted, plaintext);
}

TEST_F(AgeInteropTest, WeDecryptAgeBinaryOutputForSeveralRecipients) {
  KeygenKey keygen_key = Keygen("key.txt");
  StatusOr<X25519Identity> ours = GenerateIdentity();
  ASSERT_TRUE(ours.ok());
  WriteFile(dir_ / "plain", "two readers");
  RunResult r = Run({age_, "-r", keygen_key.recipient, "-r", ours->recipient, "-o",
                     (dir_ / "out.age").string(), (dir_ / "plain").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string file = ReadFile(dir_ / "out.age");
  for (const std::string& identity : {keygen_key.identity, ours->identity}) {
    StatusOr<std::string> decrypted = Decrypt(file, {identity});
    ASSERT_TRUE(decrypted.ok()) << decrypted.status().ToString();
    EXPECT_EQ(*decrypted, "two readers");
  }
  StatusOr<X25519Identity> stranger = GenerateIdentity();
  ASSERT_TRUE(stranger.ok());
  StatusOr<std::string> denied = Decrypt(file, {stranger->identity});
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(AgeInteropTest, WeOpenAgeEncryptedGzip) {
  // The controller's path: age-encrypted gzip from another implementation, opened with a cap.
  StatusOr<X25519Identity> id = GenerateIdentity();
  ASSERT_TRUE(id.ok());
  const std::string plaintext(500000, 'k');
  StatusOr<std::string> gz = GzipCompress(plaintext);
  ASSERT_TRUE(gz.ok());
  WriteFile(dir_ / "plain.gz", *gz);
  const std::filesystem::path identity_file = WriteIdentity("ours.txt", *id);
  WriteFile(dir_ / "recipients", id->recipient + "\n");
  RunResult r = Run({age_, "-R", (dir_ / "recipients").string(), "-a", "-o",
                     (dir_ / "out.age").string(), (dir_ / "plain.gz").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  StatusOr<std::string> opened = Open(ReadFile(dir_ / "out.age"), {id->identity}, 1 << 20);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, plaintext);
  StatusOr<std::string> capped = Open(ReadFile(dir_ / "out.age"), {id->identity}, 1000);
  ASSERT_FALSE(capped.ok());
  EXPECT_EQ(capped.status().code(), StatusCode::kResourceExhausted);
  // And age itself accepts our identity file format.
  RunResult d = Run({age_, "-d", "-i", identity_file.string(), (dir_ / "out.age").string()});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, *gz);
}

}  // namespace
}  // namespace ephemera::envelope
