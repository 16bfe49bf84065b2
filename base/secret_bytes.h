// SecretBytes: a byte string wiped (OPENSSL_cleanse) when it is destroyed, so that key material and
// plaintext do not linger in freed memory. Used by the envelope, the controller (session keys,
// decrypted snapshots) and the command-line tool (identities, reports).
#ifndef EPHEMERA_BASE_SECRET_BYTES_H_
#define EPHEMERA_BASE_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ephemera::base {

// Bytes that hold a secret (key material, a decrypted snapshot). Movable, not copyable (a copy
// would be a second place to wipe); the buffer is cleansed on destruction and before being moved
// from.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size) : bytes_(size, '\0') {}
  explicit SecretBytes(std::string_view bytes) : bytes_(bytes) {}
  // Takes over `bytes`, which is wiped and left empty.
  static SecretBytes Adopt(std::string&& bytes);
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  size_t Size() const { return bytes_.size(); }
  bool IsEmpty() const { return bytes_.empty(); }
  uint8_t* Data() { return reinterpret_cast<uint8_t*>(bytes_.data()); }
  const uint8_t* Data() const { return reinterpret_cast<const uint8_t*>(bytes_.data()); }
  std::string_view View() const { return bytes_; }

 private:
  void Wipe();
  std::string bytes_;
};

// Overwrites `s` with zeros (OPENSSL_cleanse) and clears it. For temporaries that briefly held a
// secret in a std::string, such as an encoded identity.
void WipeString(std::string& s);

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_SECRET_BYTES_H_
