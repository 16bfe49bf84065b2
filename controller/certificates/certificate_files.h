// Writing a serving certificate where a server reads it (httpserver reloads tls.crt and tls.key
// when they change). For certificates.mode controller, into an in-memory emptyDir.
#ifndef EPHEMERA_CONTROLLER_CERTIFICATES_CERTIFICATE_FILES_H_
#define EPHEMERA_CONTROLLER_CERTIFICATES_CERTIFICATE_FILES_H_

#include <string>

#include "base/status.h"
#include "controller/certificates/serving_certificate.h"

namespace ephemera::certificates {

// Writes tls.key (mode 0600) and tls.crt (0644) into `dir`, each through a temporary file renamed
// over the old one, so a reader sees the old file or the new one, never half of one. Files that
// already hold the same bytes are left alone. kUnavailable when the directory cannot be written.
Status WriteServingFiles(const std::string& dir, const ServingCertificate& certificate);

}  // namespace ephemera::certificates

#endif  // EPHEMERA_CONTROLLER_CERTIFICATES_CERTIFICATE_FILES_H_
