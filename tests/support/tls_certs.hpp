// SPDX-License-Identifier: MIT
// Throwaway certificates for TLS tests, made at run time with the openssl command:
// a CA, a server certificate for 127.0.0.1/localhost, and a client certificate.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace http_task_test {

class TlsCerts {
 public:
  TlsCerts() {
    char tmpl[] = "/tmp/http_task_tls.XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::string d = dir_;
    std::string script =
        "set -e; cd '" + d +
        "'; "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
        "-subj '/CN=http_task test CA'; "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext; "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "
        "'/CN=127.0.0.1'; "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile server.ext; "
        "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "
        "'/CN=http_task client'; "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out client.pem -days 2";
    std::string command = "sh -c \"" + escape(script) + "\" >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0)
      throw std::runtime_error("could not make test certificates with openssl in " + d);
  }
  TlsCerts(const TlsCerts&) = delete;
  TlsCerts& operator=(const TlsCerts&) = delete;
  ~TlsCerts() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string file(const std::string& name) const { return dir_ + "/" + name; }

 private:
  static std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\' || c == '$' || c == '`') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  }
  std::string dir_;
};

}  // namespace http_task_test
