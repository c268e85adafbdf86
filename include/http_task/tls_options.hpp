// SPDX-License-Identifier: MIT
// TLS settings of a Client. Verification is on unless switched off; a webhook client
// that trusts any certificate hands its payloads to whoever sits on the path.
#pragma once

#include <string>

namespace http_task {
inline namespace v1 {

/// TLS settings of a Client (ClientOptions::tls); docs/https-h2.md.
struct TlsOptions {
  bool verify_peer = true;          ///< Verify the certificate chain and the host name.
  std::string ca_file;              ///< Path of a PEM bundle to trust instead of libcurl's default.
  std::string ca_path;              ///< Path of a directory of hashed CA certificates to trust.
  std::string client_cert;          ///< Path of a PEM client certificate, for mutual TLS.
  std::string client_key;           ///< Path of the client certificate's private key (PEM).
  std::string client_key_password;  ///< The private key's passphrase, when it has one.

  /// Refuse http:// URLs (RequestError) and redirects to them (TransportError).
  bool https_only = false;
};

}  // namespace v1
}  // namespace http_task
