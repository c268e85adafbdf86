// TLS settings of a Client. Verification is on unless switched off; a webhook client
// that trusts any certificate hands its payloads to whoever sits on the path.
#pragma once

#include <string>

namespace http_task {

struct TlsOptions {
  bool verify_peer = true;  // the certificate chain and the host name
  std::string ca_file;      // PEM bundle to trust instead of the system's
  std::string ca_path;      // directory of hashed CA certificates
  std::string client_cert;  // PEM client certificate, for mutual TLS
  std::string client_key;   // its private key (PEM)
  std::string client_key_password;
  bool https_only = false;  // refuse http:// URLs and redirects to them
};

}  // namespace http_task
