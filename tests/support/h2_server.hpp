// SPDX-License-Identifier: MIT
// tests/servers/h2_fault_server.py with throwaway certificates, and its /stats.
#pragma once

#include <http_task/http_task.hpp>

#include "test_servers.hpp"
#include "tls_certs.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace http_task_test {

struct H2Server {
  TlsCerts certs;
  std::unique_ptr<ServerProcess> server;

  explicit H2Server(std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {"--tls-cert", certs.file("server.pem"), "--tls-key",
                                     certs.file("server.key")};
    argv.insert(argv.end(), args.begin(), args.end());
    server = start_python_server("tests/servers/h2_fault_server.py", argv);
  }

  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server->port()) + path;
  }

  http_task::ClientOptions options() const {
    http_task::ClientOptions o;
    o.tls.ca_file = certs.file("ca.pem");
    return o;
  }

  // Read through a Client of its own over HTTP/1.1: one more connection, counted in the
  // stats it reads (connections() leaves it out).
  http_task::Json stats() const {
    http_task::ClientOptions o = options();
    o.http_version = http_task::HttpVersion::http1_only;
    http_task::Client reader(o);
    return http_task::URL(url("/stats"), reader).get_async().get();
  }
};

// A member of a JSON object; throws when missing.
inline http_task::Json at(const http_task::Json& object, const char* key) {
  auto member = object.find(key);
  if (!member) throw std::runtime_error(std::string("no '") + key + "' in " + object.dump());
  return *member;
}

// Entries of a stats table (received, answered) for a call id; 0 when absent.
inline int count_of(const http_task::Json& stats, const char* table, int id) {
  auto row = at(stats, table).find(std::to_string(id));
  return row ? row->as<int>() : 0;
}

// Connections the Client under test opened: all but the stats reader's own.
inline int connections(const http_task::Json& stats) { return stats.get<int>("connections") - 1; }

}  // namespace http_task_test
