// Standard base64 (RFC 4648 §4, with padding), as used by kubeconfig's *-data fields.
#ifndef EPHEMERA_BASE_BASE64_H_
#define EPHEMERA_BASE_BASE64_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::base {

std::string Base64Encode(std::string_view bytes);
// Decodes standard base64. Whitespace (line breaks in pasted data) is skipped; missing padding is
// accepted. Any other character outside the alphabet gives InvalidArgument (the message never
// echoes the input, which may be a key).
StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_BASE64_H_
