// SPDX-License-Identifier: MIT
// libFuzzer target for the decoder: every body must give a value or an error, never a
// crash, a leak or undefined behaviour, and the same one whether decoded from a view or
// in place in its own buffer (as the loop does large answers). The first byte picks the
// HTTP status.
#include <http_task/detail/decode/answer_decoder.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace {

std::string described(const http_task::detail::Outcome& outcome) {
  if (outcome.ok()) return outcome.value.dump();
  try {
    std::rethrow_exception(outcome.error);
  } catch (const std::exception& e) {
    return std::string(typeid(e).name()) + ": " + e.what();
  }
}

template <class T>
void try_as(const http_task::Json& j) {
  try {
    (void)j.as<T>();
  } catch (const http_task::Error&) {
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr long kStatuses[] = {200, 204, 500, 404};
  const long status = kStatuses[data[0] % 4];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  http_task::detail::DecodeLimits limits;
  limits.max_error_body = 64;
  const http_task::detail::Outcome outcome = http_task::detail::decode_answer(status, body, limits);
  std::string own(body);
  const http_task::detail::Outcome in_place =
      http_task::detail::decode_answer_in_place(status, own, limits);
  own = std::string();  // the value must not need it
  if (described(in_place) != described(outcome)) __builtin_trap();
  if (!outcome.ok()) return 0;

  const http_task::Json& value = outcome.value;
  const std::string text = value.dump();
  // What dump() writes must parse back to an equal value.
  const auto again = http_task::detail::parse_json(text, limits.max_depth);
  if (!again.ok() || !(again.value == value)) __builtin_trap();

  try_as<bool>(value);
  try_as<int>(value);
  try_as<std::uint64_t>(value);
  try_as<std::int8_t>(value);
  try_as<float>(value);
  try_as<double>(value);
  try_as<std::string>(value);
  try_as<std::vector<std::optional<long long>>>(value);
  try_as<std::map<std::string, std::string>>(value);
  try_as<std::vector<http_task::Json>>(value);
  (void)value.find("status");
  if (value.size() > 0 && value.is_array()) (void)value[value.size() - 1];
  return 0;
}
