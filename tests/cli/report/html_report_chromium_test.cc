// The HTML report in a real browser: Debian's headless Chromium renders the report of a real
// snapshot; the screenshot must not be blank and the DOM after the script ran must hold the key
// elements with sortable tables ready (and sorted when the address asks for it). Label: component.
// When Chromium is missing or cannot start, the tests fail and say why. With
// EPHEMERA_REPORT_SCREENSHOT=FILE the checked screenshot is also kept there (docs/images/ holds the
// one the docs show: hack/report-screenshot.sh).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/report/report.h"
#include "tests/cli/report/report_fixtures.h"

namespace ephemera::report {
namespace {

using ::testing::HasSubstr;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The first executable `name` on PATH.
std::optional<std::filesystem::path> FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// A decoded 8-bit RGB or RGBA PNG (non-interlaced, as Chromium writes them).
struct Image {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::size_t channels = 0;
  std::vector<std::uint8_t> pixels;  // rows of width * channels bytes
};

std::uint32_t BigEndian32(const std::string& bytes, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[at + 3]));
}

int Paeth(int a, int b, int c) {
  int p = a + b - c;
  int pa = std::abs(p - a);
  int pb = std::abs(p - b);
  int pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

// Decodes `png` or explains in `error` why it cannot.
std::optional<Image> DecodePng(const std::string& png, std::string& error) {
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    error = "not a PNG file";
    return std::nullopt;
  }
  Image image;
  std::string compressed;
  for (std::size_t at = 8; at + 12 <= png.size();) {
    std::uint32_t length = BigEndian32(png, at);
    std::string type = png.substr(at + 4, 4);
    if (at + 12 + length > png.size()) break;
    if (type == "IHDR") {
      image.width = BigEndian32(png, at + 8);
      image.height = BigEndian32(png, at + 12);
      auto depth = static_cast<std::uint8_t>(png[at + 16]);
      auto colour = static_cast<std::uint8_t>(png[at + 17]);
      auto interlace = static_cast<std::uint8_t>(png[at + 20]);
      if (depth != 8 || (colour != 2 && colour != 6) || interlace != 0) {
        error = "unsupported PNG layout (depth " + std::to_string(depth) + ", colour type " +
                std::to_string(colour) + ", interlace " + std::to_string(interlace) + ")";
        return std::nullopt;
      }
      image.channels = colour == 6 ? 4 : 3;
    } else if (type == "IDAT") {
      compressed += png.substr(at + 8, length);
    }
    at += 12 + length;
  }
  if (image.channels == 0 || compressed.empty()) {
    error = "PNG without IHDR or IDAT";
    return std::nullopt;
  }
  std::size_t stride = static_cast<std::size_t>(image.width) * image.channels;
  std::vector<std::uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(compressed.data()),
                 compressed.size()) != Z_OK ||
      raw_size != raw.size()) {
    error = "PNG image data does not inflate to the expected size";
    return std::nullopt;
  }
  image.pixels.resize(stride * image.height);
  for (std::size_t y = 0; y < image.height; ++y) {
    std::uint8_t filter = raw[y * (stride + 1)];
    const std::uint8_t* in = &raw[y * (stride + 1) + 1];
    std::uint8_t* row = &image.pixels[y * stride];
    const std::uint8_t* above = y > 0 ? &image.pixels[(y - 1) * stride] : nullptr;
    for (std::size_t x = 0; x < stride; ++x) {
      int a = x >= image.channels ? row[x - image.channels] : 0;
      int b = above != nullptr ? above[x] : 0;
      int c = above != nullptr && x >= image.channels ? above[x - image.channels] : 0;
      int predictor = 0;
      switch (filter) {
        case 0:
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4:
          predictor = Paeth(a, b, c);
          break;
        default:
          error = "unknown PNG filter " + std::to_string(filter);
          return std::nullopt;
      }
      row[x] = static_cast<std::uint8_t>(in[x] + predictor);
    }
  }
  return image;
}

class HtmlReportChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ephemera-report-XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << "mkdtemp failed";
    dir_ = pattern;
    std::optional<std::filesystem::path> chromium = FindOnPath("chromium");
    ASSERT_TRUE(chromium.has_value())
        << "Debian's chromium is not installed, so the HTML report cannot be checked in a browser: "
           "install it with `sudo hack/deps.sh` (package chromium)";
    chromium_ = *chromium;

    ReportContext context;
    context.session = "checkout-slow";
    context.namespace_name = "shop";
    StatusOr<std::string> html = RenderHtml(LoadReportFixture("ephemera-target.json"), context);
    ASSERT_TRUE(html.ok()) << html.status().ToString();
    report_ = dir_ / "report.html";
    std::ofstream(report_) << *html;
  }

  void TearDown() override {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  // Runs headless Chromium on the report (with `fragment` appended to its address), bounded by
  // `timeout` so that a hung browser fails the test instead of stalling it.
  RunResult RunChromium(const std::vector<std::string>& flags, const std::string& fragment = "") {
    std::vector<std::string> argv = {"/usr/bin/timeout",
                                     "--kill-after=10",
                                     "120",
                                     chromium_.string(),
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--no-first-run",
                                     "--disable-extensions",
                                     "--user-data-dir=" + (dir_ / "profile").string(),
                                     "--window-size=1200,2000"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("file://" + report_.string() + fragment);
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
      setenv("HOME", dir_.c_str(), 1);  // Chromium writes its caches under HOME
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

  static std::string Why(const RunResult& run) {
    std::string err = run.err.size() > 3000 ? run.err.substr(run.err.size() - 3000) : run.err;
    return "chromium could not render the report here (exit status " +
           std::to_string(run.exit_code) + (run.exit_code == 124 ? ", timed out" : "") +
           "); its stderr ends with:\n" + err;
  }

  std::filesystem::path dir_;
  std::filesystem::path chromium_;
  std::filesystem::path report_;
};

TEST_F(HtmlReportChromiumTest, ScreenshotIsNotBlank) {
  const std::filesystem::path shot = dir_ / "shot.png";
  RunResult run = RunChromium({"--hide-scrollbars", "--screenshot=" + shot.string()});
  ASSERT_EQ(run.exit_code, 0) << Why(run);
  ASSERT_TRUE(std::filesystem::exists(shot)) << "no screenshot written\n" << Why(run);

  std::string error;
  std::optional<Image> image = DecodePng(ReadFile(shot), error);
  ASSERT_TRUE(image.has_value()) << error;
  EXPECT_EQ(image->width, 1200U);
  EXPECT_EQ(image->height, 2000U);

  // Against the page background (the top-left pixel): a rendered report has text, table rules,
  // the flame boxes and chart bars, in many colours.
  const std::uint8_t* background = image->pixels.data();
  std::size_t differing = 0;
  std::set<std::uint32_t> colours;
  for (std::size_t i = 0; i + image->channels <= image->pixels.size(); i += image->channels) {
    const std::uint8_t* p = &image->pixels[i];
    if (p[0] != background[0] || p[1] != background[1] || p[2] != background[2]) ++differing;
    colours.insert((static_cast<std::uint32_t>(p[0]) << 16) |
                   (static_cast<std::uint32_t>(p[1]) << 8) | p[2]);
  }
  std::size_t total = static_cast<std::size_t>(image->width) * image->height;
  std::cout << "screenshot: " << differing << " of " << total
            << " pixels differ from the background, " << colours.size() << " colours\n";
  EXPECT_GT(differing, total / 20) << differing << " of " << total << " pixels differ";
  EXPECT_GT(colours.size(), 50U);
  const char* keep = std::getenv("EPHEMERA_REPORT_SCREENSHOT");
  if (keep != nullptr && *keep != '\0' && !HasFailure()) {
    std::filesystem::copy_file(shot, keep, std::filesystem::copy_options::overwrite_existing);
  }
}

TEST_F(HtmlReportChromiumTest, DomHasKeyElementsAndTheScriptMadeTablesSortable) {
  RunResult run = RunChromium({"--dump-dom"});
  ASSERT_EQ(run.exit_code, 0) << Why(run);
  const std::string& dom = run.out;
  ASSERT_THAT(dom, HasSubstr("</html>")) << Why(run);

  for (const char* id : {"header", "stacks", "fds", "sockets", "memory", "redaction", "degraded",
                         "overhead", "flame-17604", "memory-chart-17604"}) {
    EXPECT_THAT(dom, HasSubstr(std::string("id=\"") + id + "\"")) << id;
  }
  EXPECT_THAT(dom, HasSubstr("data-script=\"ran\""));
  std::size_t sortable = 0;
  std::size_t ready = 0;
  for (std::size_t at = dom.find("<table "); at != std::string::npos;
       at = dom.find("<table ", at + 1)) {
    std::string tag = dom.substr(at, dom.find('>', at) - at);
    if (tag.find("sortable") != std::string::npos) ++sortable;
    if (tag.find("data-sortable-ready=\"true\"") != std::string::npos) ++ready;
  }
  EXPECT_GT(sortable, 5U);
  EXPECT_EQ(ready, sortable);
  EXPECT_THAT(dom, HasSubstr("data-sort-ready=\"true\""));
}

TEST_F(HtmlReportChromiumTest, AddressCanSortATable) {
  RunResult run = RunChromium({"--dump-dom"}, "#sort=fds-table-17604:0:desc");
  ASSERT_EQ(run.exit_code, 0) << Why(run);
  const std::string& dom = run.out;

  std::size_t table = dom.find("id=\"fds-table-17604\"");
  ASSERT_NE(table, std::string::npos);
  std::string tag = dom.substr(table, dom.find('>', table) - table);
  EXPECT_THAT(tag, HasSubstr("data-sorted-by=\"0 desc\""));
  // Numeric descending: fd 251 (the largest) first, fd 10 before fd 8 (not text order).
  std::size_t body = dom.find("<tbody>", table);
  std::size_t first_cell = dom.find("<td", body);
  EXPECT_THAT(dom.substr(first_cell, 60), HasSubstr(">251<"));
  EXPECT_LT(dom.find(">10</td>", body), dom.find(">8</td>", body));
}

}  // namespace
}  // namespace ephemera::report
