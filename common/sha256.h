// Streaming SHA-256 over OpenSSL, for checking blobs and manifests as their bytes go by.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ferry {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(std::string_view bytes);
  // "sha256:<64 lowercase hex>". Finishes the hash; call once.
  std::string Digest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "sha256:<hex>" of `bytes`.
std::string Sha256Digest(std::string_view bytes);

}  // namespace ferry
