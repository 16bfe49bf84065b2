// Fuzzes the age envelope reader (envelope/): what `kubectl ephemera` and the controller
// open is fetched from the cluster, so it may be truncated, tampered with or hostile. The identity
// is the published test key of the age test kit (tests/testdata/envelope/README.md), the one the
// seed files are encrypted to, so the fuzzer reaches the payload and gzip layers too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envelope/age_header.h"
#include "envelope/envelope.h"

namespace {

const std::vector<std::string>& TestIdentities() {
  static const auto* const identities = new std::vector<std::string>{
      "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6"};
  return *identities;
}

constexpr std::size_t kMaxPlaintextBytes = std::size_t{1} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace envelope = ephemera::envelope;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)envelope::ParseHeader(input);
  (void)envelope::Dearmor(input);
  (void)envelope::Decrypt(input, TestIdentities());
  (void)envelope::Open(input, TestIdentities(), kMaxPlaintextBytes);
  (void)envelope::ParseIdentities(input);
  return 0;
}
