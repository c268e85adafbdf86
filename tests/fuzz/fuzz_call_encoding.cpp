// SPDX-License-Identifier: MIT
// Fuzzes the call side: URL query merging, form encoding and decoding, UTF-8
// validation, credential redaction, and the request checks a Transfer makes before
// anything is sent. Input: newline-separated fields: url, method, then name/value
// pairs; a header name/value pair is taken from the last two fields.
#include <http_task/detail/call/form_encoding.hpp>
#include <http_task/detail/call/url_query.hpp>
#include <http_task/detail/loop/transfer.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace http_task;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> fields;
  while (!input.empty() && fields.size() < 16) {
    auto nl = input.find('\n');
    fields.emplace_back(input.substr(0, nl));
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  }
  while (fields.size() < 2) fields.emplace_back();

  Params params;
  for (std::size_t i = 2; i + 1 < fields.size(); i += 2) params.add(fields[i], fields[i + 1]);

  // Encoding then decoding gives back every byte string exactly.
  for (const auto& [name, value] : params) {
    std::string encoded;
    detail::append_form_encoded(encoded, value);
    if (detail::form_decode(encoded) != value) std::abort();
    if (encoded.find_first_of(" &=#?+%") != std::string::npos &&
        encoded.find_first_of(" &=#?") != std::string::npos)
      std::abort();  // only '%' and '+' may remain as syntax
  }

  std::string merged = detail::merge_query(fields[0], params);
  // The fragment is kept verbatim at the end.
  if (auto hash = fields[0].find('#'); hash != std::string::npos) {
    std::string fragment = fields[0].substr(hash);
    if (merged.size() < fragment.size() ||
        merged.compare(merged.size() - fragment.size(), fragment.size(), fragment) != 0)
      std::abort();
  }
  (void)detail::redact_credentials(merged);
  (void)detail::url_scheme(fields[0]);
  (void)detail::is_valid_utf8(fields[0]);

  // The checks before sending must refuse with RequestError, never crash.
  static ClientOptions options;
  auto driver = std::make_shared<detail::Driver>(std::make_shared<detail::Inbox>(), false);
  detail::Transfer transfer(detail::Uuid4{}, driver);
  Request request;
  request.method = fields[1];
  request.url = fields[0];
  request.params = params;
  if (fields.size() >= 4) request.options.header(fields[fields.size() - 2], fields.back());
  try {
    transfer.prepare(std::move(request), options, nullptr);
  } catch (const RequestError&) {
  }
  return 0;
}
