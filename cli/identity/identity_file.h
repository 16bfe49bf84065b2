// The user's age identity (an X25519 secret key) in a file only they can read, and the recipient
// (public key) snapshots are encrypted to.
//
// Location: $EPHEMERA_IDENTITY, else $XDG_CONFIG_HOME/ephemera/identity.txt, else
// $HOME/.config/ephemera/identity.txt. Format: what age-keygen writes (comment lines, then one
// AGE-SECRET-KEY-1… line), so `age -d -i FILE` works with it too. Created with mode 0600 (whatever
// the umask), in a directory created with mode 0700. A file that group or others may access is
// refused rather than used.
//
// Errors (status.h codes; messages name the file and what to do, never the key):
//   NotFound          no identity file ("run 'kubectl ephemera keys'")
//   PermissionDenied  the file's mode lets others in ("chmod 600 FILE"), or it cannot be read
//   InvalidArgument   the file holds no usable identity, or the path is not a regular file
//   Internal          a directory or the file could not be created (with the OS error)
// Thread safety: no shared state.
#ifndef EPHEMERA_CLI_IDENTITY_IDENTITY_FILE_H_
#define EPHEMERA_CLI_IDENTITY_IDENTITY_FILE_H_

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"
#include "kube/auth/kube_config.h"

namespace ephemera::identity {

// Where the identity lives (see above). Empty when neither EPHEMERA_IDENTITY, XDG_CONFIG_HOME nor
// HOME is set.
std::string IdentityPath(const kube::EnvironmentLookup& getenv = kube::LookupProcessEnvironment);

// A loaded identity. The secret is wiped from memory when the object is destroyed.
class Identity {
 public:
  Identity(std::string path, std::string secret, std::string recipient);
  ~Identity();
  Identity(Identity&& other) noexcept;
  Identity& operator=(Identity&&) = delete;
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;

  const std::string& Path() const { return path_; }
  const std::string& Recipient() const { return recipient_; }  // age1…
  // The secret ("AGE-SECRET-KEY-1…") in the form envelope::Open takes. Never print or log it.
  const std::vector<std::string>& Secrets() const { return secrets_; }

 private:
  std::string path_;
  std::vector<std::string> secrets_;  // exactly one
  std::string recipient_;
};

// Reads an existing identity file.
StatusOr<Identity> LoadIdentity(const std::string& path);

struct EnsuredIdentity {
  Identity identity;
  bool created = false;  // a new key pair was generated and written
};

// Loads the identity at `path`, or generates one and writes it there (creating missing
// directories with mode 0700). `now` goes into the file's "# created:" comment.
StatusOr<EnsuredIdentity> EnsureIdentity(const std::string& path,
                                         std::chrono::system_clock::time_point now);

}  // namespace ephemera::identity

#endif  // EPHEMERA_CLI_IDENTITY_IDENTITY_FILE_H_
