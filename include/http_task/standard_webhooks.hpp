// SPDX-License-Identifier: MIT
// Request signing per the Standard Webhooks specification: each attempt carries
// webhook-id, webhook-timestamp and webhook-signature ("v1,<base64 HMAC-SHA256 of
// id.timestamp.body>"), so the receiver can check who sent it and that it is fresh.
//
// Not included by http_task.hpp: it needs OpenSSL's libcrypto (link
// http_task::signing, or -lcrypto).
//
//   ClientOptions options;
//   options.signer = std::make_shared<http_task::StandardWebhooksSigner>("whsec_...");
#pragma once

#include <http_task/detail/call/base64.hpp>
#include <http_task/error.hpp>
#include <http_task/request_signer.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace http_task {
inline namespace v1 {

/// Signs each attempt per the Standard Webhooks specification: webhook-id (the call's
/// id), webhook-timestamp (seconds since the epoch) and webhook-signature headers.
///
/// Give it to ClientOptions::signer or CallOptions::signer. Immutable once made, so
/// one signer may be shared by any threads. Needs OpenSSL's libcrypto (link
/// http_task::signing, or -lcrypto).
class StandardWebhooksSigner : public RequestSigner {
 public:
  /// A signer with one secret: "whsec_" + base64 of the key bytes (the prefix may be
  /// left out). Throws http_task::Error when the secret is not valid base64.
  explicit StandardWebhooksSigner(std::string_view secret)
      : StandardWebhooksSigner(std::vector<std::string_view>{secret}) {}
  /// A signer with several secrets, during key rotation: every one signs (the header
  /// carries one signature each, space-separated); receivers accept any. Throws
  /// http_task::Error when the list is empty or a secret is not valid base64.
  explicit StandardWebhooksSigner(std::vector<std::string_view> secrets) {
    if (secrets.empty()) throw Error("StandardWebhooksSigner needs at least one secret");
    for (auto s : secrets) keys_.push_back(decode_secret(s));
  }

  /// The webhook-id, webhook-timestamp and webhook-signature headers of this attempt.
  Headers sign(const SigningInput& input) const override {
    auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(input.now.time_since_epoch()).count();
    std::string timestamp = std::to_string(seconds);
    std::string signatures;
    for (const auto& key : keys_) {
      if (!signatures.empty()) signatures += ' ';
      signatures += "v1," + signature(key, input.id, timestamp, input.body);
    }
    return {{"webhook-id", std::string(input.id)},
            {"webhook-timestamp", timestamp},
            {"webhook-signature", signatures}};
  }

  /// base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), without the "v1," prefix;
  /// `key` is the raw key bytes (decode_secret()). Throws http_task::Error if OpenSSL
  /// fails.
  static std::string signature(const std::string& key, std::string_view id,
                               std::string_view timestamp, std::string_view body) {
    std::string message;
    message.reserve(id.size() + timestamp.size() + body.size() + 2);
    message.append(id).append(".").append(timestamp).append(".").append(body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac,
              &mac_len))
      throw Error("HMAC-SHA256 failed");
    return detail::base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
  }

  /// For receivers and tests: whether any "v1,<sig>" in the space-separated header
  /// value matches, compared in constant time. The timestamp's freshness is the
  /// receiver's policy (the spec suggests five minutes), checked by the caller. Throws
  /// http_task::Error when the secret is not valid base64.
  static bool verify(std::string_view secret, std::string_view id, std::string_view timestamp,
                     std::string_view body, std::string_view signature_header) {
    std::string expected = signature(decode_secret(secret), id, timestamp, body);
    while (!signature_header.empty()) {
      auto space = signature_header.find(' ');
      auto one = signature_header.substr(0, space);
      signature_header =
          space == std::string_view::npos ? std::string_view() : signature_header.substr(space + 1);
      if (one.substr(0, 3) != "v1,") continue;
      one.remove_prefix(3);
      if (one.size() == expected.size() &&
          CRYPTO_memcmp(one.data(), expected.data(), expected.size()) == 0)
        return true;
    }
    return false;
  }

  /// The key bytes of a "whsec_..." secret (the prefix may be left out). Throws
  /// http_task::Error when the rest is not valid, non-empty base64.
  static std::string decode_secret(std::string_view secret) {
    if (secret.substr(0, 6) == "whsec_") secret.remove_prefix(6);
    auto key = detail::base64_decode(secret);
    if (!key || key->empty()) throw Error("webhook secret is not valid base64 after 'whsec_'");
    return *key;
  }

 private:
  std::vector<std::string> keys_;
};

}  // namespace v1
}  // namespace http_task
