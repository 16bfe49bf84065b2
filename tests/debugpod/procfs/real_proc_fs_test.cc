#include "debugpod/procfs/real_proc_fs.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ephemera::procfs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

RealProcFs FixtureProcFs() {
  return RealProcFs(std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/proc");
}

TEST(RealProcFsTest, ListsPidsTasksAndFdsInOrder) {
  RealProcFs fs = FixtureProcFs();
  StatusOr<std::vector<int>> pids = fs.ListPids();
  ASSERT_TRUE(pids.ok()) << pids.status().ToString();
  EXPECT_THAT(*pids, ElementsAre(2, 4242, 4300));
  StatusOr<std::vector<int>> tasks = fs.ListTasks(4242);
  ASSERT_TRUE(tasks.ok());
  EXPECT_THAT(*tasks, ElementsAre(4242, 4243));
  StatusOr<std::vector<int>> fds = fs.ListFds(4242);
  ASSERT_TRUE(fds.ok());
  EXPECT_THAT(*fds, ElementsAre(0, 3, 4, 5, 7, 8, 9, 10, 11));
}

TEST(RealProcFsTest, ReadsFilesTaskFilesLinksAndNetFiles) {
  RealProcFs fs = FixtureProcFs();
  StatusOr<std::string> comm = fs.ReadTaskFile(4242, 4243, "comm");
  ASSERT_TRUE(comm.ok());
  EXPECT_EQ(*comm, "checkout-0\n");
  StatusOr<std::string> link = fs.ReadLink(4242, "fd/3");
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  EXPECT_EQ(*link, "socket:[46418]");
  StatusOr<std::string> tcp = fs.ReadNetFile(4242, "tcp");
  ASSERT_TRUE(tcp.ok());
  EXPECT_THAT(*tcp, HasSubstr("46418"));
}

TEST(RealProcFsTest, MissingProcessIsNotFoundWithErrnoName) {
  RealProcFs fs = FixtureProcFs();
  StatusOr<std::string> status = fs.ReadFile(999999, "status");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(status.status().message(), StartsWith("ENOENT: open "));
  EXPECT_EQ(fs.ListTasks(999999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs.ReadLink(4242, "fd/99").status().code(), StatusCode::kNotFound);
}

TEST(RealProcFsTest, RejectsPathsThatLeaveTheProcessDirectory) {
  RealProcFs fs = FixtureProcFs();
  EXPECT_EQ(fs.ReadFile(4242, "../4300/status").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs.ReadFile(4242, "/etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs.ReadFile(4242, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs.ReadNetFile(4242, "../status").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs.ReadTaskFile(4242, 4243, "./comm").status().code(), StatusCode::kInvalidArgument);
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "procfs-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& Path() const { return path_; }

 private:
  std::string path_;
};

TEST(RealProcFsTest, FilesOverTheCapAreResourceExhausted) {
  TempDir dir;
  std::filesystem::create_directories(dir.Path() + "/7");
  std::ofstream(dir.Path() + "/7/maps") << std::string(10000, 'x');
  std::ofstream(dir.Path() + "/7/small") << std::string(100, 'y');
  RealProcFs fs(dir.Path(), 4096);
  StatusOr<std::string> big = fs.ReadFile(7, "maps");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  StatusOr<std::string> small = fs.ReadFile(7, "small");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->size(), 100u);
  // Exactly at the cap is still fine.
  std::ofstream(dir.Path() + "/7/exact") << std::string(4096, 'z');
  StatusOr<std::string> exact = fs.ReadFile(7, "exact");
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->size(), 4096u);
}

// Without O_NONBLOCK and the type check, opening the FIFO would wait for a writer forever.
TEST(RealProcFsTest, AFifoWhereAFileIsExpectedIsRefusedWithoutBlocking) {
  TempDir dir;
  std::filesystem::create_directories(dir.Path() + "/7");
  ASSERT_EQ(mkfifo((dir.Path() + "/7/status").c_str(), 0600), 0);
  RealProcFs fs(dir.Path());
  StatusOr<std::string> read = fs.ReadFile(7, "status");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(read.status().message(),
              HasSubstr("not a regular file: " + dir.Path() + "/7/status"));
}

TEST(RealProcFsTest, TheRealProcFilesAreRegularAndRead) {
  RealProcFs fs("/proc");
  for (const char* name : {"status", "maps", "cmdline", "stat", "net/tcp"}) {
    StatusOr<std::string> read = fs.ReadFile(getpid(), name);
    ASSERT_TRUE(read.ok()) << name << ": " << read.status().ToString();
    EXPECT_FALSE(read->empty()) << name;
  }
  StatusOr<std::string> system = fs.ReadSystemFile("meminfo");
  ASSERT_TRUE(system.ok()) << system.status().ToString();
}

TEST(ReadSmallFileAtTest, ReadsAFileButNotASymlinkOrAFifo) {
  TempDir dir;
  std::ofstream(dir.Path() + "/file") << "data";
  std::filesystem::create_symlink(dir.Path() + "/file", dir.Path() + "/link");
  ASSERT_EQ(mkfifo((dir.Path() + "/fifo").c_str(), 0600), 0);
  const int dir_fd = open(dir.Path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  StatusOr<std::string> file = ReadSmallFileAt(dir_fd, "file", 100);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(*file, "data");
  EXPECT_FALSE(ReadSmallFileAt(dir_fd, "link", 100).ok());
  EXPECT_EQ(ReadSmallFileAt(dir_fd, "fifo", 100).status().code(), StatusCode::kFailedPrecondition);
  close(dir_fd);
}

TEST(RealCgroupFsTest, ReadsRelativeToItsRoot) {
  RealCgroupFs fs(std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/cgroup-v2");
  StatusOr<std::string> controllers = fs.ReadFile("cgroup.controllers");
  ASSERT_TRUE(controllers.ok());
  EXPECT_THAT(*controllers, HasSubstr("memory"));
  EXPECT_EQ(fs.ReadFile("../cgroup-v1/x").status().code(), StatusCode::kInvalidArgument);
}

TEST(ErrnoToStatusTest, MapsErrnoToCodes) {
  Status denied = ErrnoToStatus(EACCES, "open /proc/1/environ");
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "EACCES: open /proc/1/environ");
  EXPECT_EQ(ErrnoToStatus(EPERM, "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(ESRCH, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(ENOENT, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(EIO, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(EIO, "x").message(), "EIO: x");
}

}  // namespace
}  // namespace ephemera::procfs
