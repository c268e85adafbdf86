// SPDX-License-Identifier: MIT
// libFuzzer target for building JSON: whatever parses is rebuilt from its parts with
// Json::from, Json::array and Json::object, and the rebuilt value must be equal to it,
// dump to text that parses back equal, and carry the same text as the parsed value's
// dump. Nothing parsed may be refused by the builders (parsed strings are valid UTF-8,
// parsed numbers are finite).
#include <http_task/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

// The parse depth below bounds this recursion.
http_task::Json rebuild(const http_task::Json& j) {
  using http_task::Json;
  const rapidjson::Value& v = j.value();
  if (v.IsNull()) return Json::from(nullptr);
  if (v.IsBool()) return Json::from(v.GetBool());
  if (v.IsDouble()) return Json::from(v.GetDouble());
  if (v.IsInt64()) return Json::from(v.GetInt64());
  if (v.IsUint64()) return Json::from(v.GetUint64());
  if (v.IsString()) return Json::from(j.as<std::string>());
  if (v.IsArray()) {
    // Small arrays through the initializer-list builder, the rest through std::vector.
    if (j.size() == 0) return Json::array();
    if (j.size() == 1) return Json::array({rebuild(j[0])});
    if (j.size() == 2) return Json::array({rebuild(j[0]), rebuild(j[1])});
    std::vector<Json> elements;
    for (const Json& e : j.elements()) elements.push_back(rebuild(e));
    return Json::from(elements);
  }
  // Objects: the last of repeated keys wins, as in Json's own comparison.
  if (j.size() == 1) {
    for (const auto& [key, value] : j.items())
      return Json::object({{std::string(key), rebuild(value)}});
  }
  std::map<std::string, Json> members;
  for (const auto& [key, value] : j.items())
    members.insert_or_assign(std::string(key), rebuild(value));
  return Json::from(members);
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = http_task::detail::parse_json(text, 64);
  if (!parsed.ok()) return 0;
  http_task::Json rebuilt;
  try {
    rebuilt = rebuild(parsed.value);
  } catch (...) {
    __builtin_trap();  // the builders refused something the parser accepted
  }
  if (!(rebuilt == parsed.value)) __builtin_trap();
  const std::string dumped = rebuilt.dump();
  const auto again = http_task::detail::parse_json(dumped, 64);
  if (!again.ok() || !(again.value == parsed.value)) __builtin_trap();
  // Without repeated keys, the rebuilt document says the same, byte for byte, except
  // for member order (std::map sorts): compare the re-dumped re-parse instead.
  if (http_task::Json::from(again.value).dump() != dumped) __builtin_trap();
  return 0;
}
