// SPDX-License-Identifier: MIT
// Short ways to address the test server's routes from integration tests.
#pragma once

#include <http_task/client.hpp>
#include <http_task/detail/call/form_encoding.hpp>

#include "support/test_servers.hpp"

#include <string>

namespace http_task_test {

// One Client with default options, shared by the tests that need nothing special.
inline http_task::Client& shared_client() {
  static http_task::Client client;
  return client;
}

// The same, under the short name the test files use: `using http_task_test::client;`.
inline http_task::Client& client() { return shared_client(); }

inline std::string server_url(const std::string& path) {
  return webhook_server().base_url() + path;
}

// The test server answers exactly `body` with HTTP `status`.
inline std::string answer_url(const std::string& body, int status = 200,
                              const std::string& extra_query = "") {
  std::string url =
      webhook_server().base_url() + "/answer?status=" + std::to_string(status) + "&body=";
  http_task::detail::append_form_encoded(url, body);
  if (!extra_query.empty()) url += "&" + extra_query;
  return url;
}

}  // namespace http_task_test
