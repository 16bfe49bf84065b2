#!/usr/bin/env bash
# Renews docs/images/html-report.png, the HTML report as headless Chromium renders it, from the
# component test that checks that rendering (tests/cli/report/html_report_chromium_test.cc): the
# picture in the docs is the page the test passed on.
#
#   hack/report-screenshot.sh [BUILD_DIR]     (default build/dev; needs its report_chromium test)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build/dev}
mkdir -p "$repo/docs/images"
EPHEMERA_REPORT_SCREENSHOT=$repo/docs/images/html-report.png \
  ctest --test-dir "$build" -R 'HtmlReportChromiumTest.ScreenshotIsNotBlank' --output-on-failure \
  --no-tests=error
echo "report-screenshot: docs/images/html-report.png ($(stat -c %s "$repo/docs/images/html-report.png") bytes)"
