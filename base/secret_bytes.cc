#include "base/secret_bytes.h"

#include <openssl/crypto.h>

namespace ephemera::base {

// Moves copy and then wipe: moving a std::string would leave a short (in-object) secret behind.
SecretBytes::SecretBytes(SecretBytes&& other) noexcept {
  bytes_ = other.bytes_;
  other.Wipe();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = other.bytes_;
    other.Wipe();
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(); }

void SecretBytes::Wipe() { WipeString(bytes_); }

void WipeString(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

SecretBytes SecretBytes::Adopt(std::string&& bytes) {
  SecretBytes out;
  out.bytes_ = bytes;
  WipeString(bytes);
  return out;
}

}  // namespace ephemera::base
