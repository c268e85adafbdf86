// SPDX-License-Identifier: MIT
// The server side of the protocol, for C++ HTTP servers that want to be webhooks: read the
// call's arguments, write a correct answer. No HTTP server here (bring your own: see
// examples/webhooks/cpp for cpp-httplib); this header only turns text into text.
//
//   using namespace http_task;
//   Params args = webhook::call_arguments(method, target, body);
//   std::string answer = webhook::success_body(42);    // {"status":"success","retval":42}
//   std::string oops = webhook::failure_body("no x");  // {"status":"failure","reason":"no x"}
//   // send either with HTTP 200 and Content-Type webhook::content_type
#pragma once

#include <http_task/detail/call/form_encoding.hpp>
#include <http_task/detail/utf8.hpp>
#include <http_task/json.hpp>
#include <http_task/params.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

/// The server side of the protocol, for C++ HTTP servers that are webhooks: read the
/// call's arguments (call_arguments()) and write a correct answer (success_body(),
/// failure_body()). Text in, text out: no HTTP server, no threads, no state.
namespace http_task {
inline namespace v1 {
namespace webhook {

/// The Content-Type of a webhook answer: "application/json".
inline constexpr std::string_view content_type = "application/json";

/// Appends `text` to `out` as a JSON string literal, quotes included.
///
/// Non-ASCII UTF-8 is written as it is (JSON text is UTF-8); the quote, the backslash
/// and every control character (U+0000..U+001F, U+007F) are escaped. Bytes that are not
/// UTF-8 become U+FFFD, one per byte, so that the answer is always valid JSON even when
/// it echoes a client's broken input.
inline void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (len <= text.size() - i && detail::is_valid_utf8(text.substr(i, len))) {
        out.append(text.substr(i, len));
        i += len;
      } else {
        out.append("\xEF\xBF\xBD");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append("\\u00");
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

/// `text` as a JSON string literal, quotes included (as append_json_string()).
inline std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_string(out, text);
  return out;
}

/// One JSON value, kept as its text: what a webhook returns as "retval". Built from C++
/// values, so that no caller writes JSON by hand:
///
///     Value(100), Value("text"), Value(nullptr), Value(true), Value(2.5)
///     Value::array({1, "two", nullptr})
///     Value::object({{"x", 10}, {"name", "ünïcode"}})
///     Value::from_params(args)      // {"name": "value", ...}
///     Value(json)                   // an http_task::Json, such as a parsed document
///     Value::raw("[1,2,3]")         // JSON text you vouch for, not checked
class Value {
 public:
  /// JSON null.
  Value(std::nullptr_t) : json_("null") {}
  /// A JSON string (as json_string()).
  Value(std::string_view text) : json_(json_string(text)) {}
  /// A JSON string (as json_string()); `text` must not be null.
  Value(const char* text) : Value(std::string_view(text)) {}
  /// A JSON string (as json_string()).
  Value(const std::string& text) : Value(std::string_view(text)) {}
  /// The JSON text of `json` (Json::dump()).
  Value(const Json& json) : json_(json.dump()) {}

  /// An integer, in decimal. As in ParamValue: plain `char` is excluded ('x' is more
  /// often a mistake than a number).
  template <class I,
            std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                                 !std::is_same_v<I, char> && !std::is_same_v<I, wchar_t> &&
                                 !std::is_same_v<I, char16_t> && !std::is_same_v<I, char32_t>,
                             int> = 0>
  Value(I number) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
    json_.assign(buf, end);
    (void)ec;  // 24 bytes hold every 64-bit integer
  }

  /// A floating-point number, in the shortest text that reads back to the same number.
  /// NaN and infinities have no JSON spelling: they throw std::invalid_argument rather
  /// than send text no client can parse.
  template <class F, std::enable_if_t<std::is_floating_point_v<F>, int> = 0>
  Value(F number) {
    if (!std::isfinite(number)) throw std::invalid_argument("webhook::Value: not a finite number");
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
    if (ec != std::errc()) throw std::invalid_argument("webhook::Value: number not representable");
    json_.assign(buf, end);
  }

  /// true or false. A template so that pointers do not decay to bool.
  template <class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
  Value(B flag) : json_(flag ? "true" : "false") {}

  /// JSON text you vouch for, used as it is: not checked.
  static Value raw(std::string json_text) { return Value(RawTag{}, std::move(json_text)); }

  /// A JSON array of these values, in order.
  static Value array(std::initializer_list<Value> items) {
    return array(std::vector<Value>(items.begin(), items.end()));
  }
  /// A JSON array of these values, in order.
  static Value array(const std::vector<Value>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out.push_back(',');
      out.append(items[i].json_);
    }
    out.push_back(']');
    return raw(std::move(out));
  }

  /// A JSON object with these members, in the order given. A name given twice is written
  /// twice: JSON parsers differ on which one wins, so avoid it (from_params does).
  static Value object(std::initializer_list<std::pair<std::string_view, Value>> members) {
    std::string out = "{";
    bool first = true;
    for (const auto& [name, value] : members) {
      if (!first) out.push_back(',');
      first = false;
      append_json_string(out, name);
      out.push_back(':');
      out.append(value.json_);
    }
    out.push_back('}');
    return raw(std::move(out));
  }

  /// The arguments as a JSON object of strings, {"name": "value", ...}, in
  /// first-appearance order; a repeated name keeps its last value, as Django's QueryDict
  /// and Rails' params do.
  static Value from_params(const Params& params) {
    std::vector<std::pair<std::string_view, std::string_view>> members;
    std::unordered_map<std::string_view, std::size_t> index;  // linear in the pairs
    for (const auto& [name, value] : params) {
      const auto [it, inserted] = index.emplace(name, members.size());
      if (inserted) {
        members.emplace_back(name, value);
      } else {
        members[it->second].second = value;
      }
    }
    std::string out = "{";
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i) out.push_back(',');
      append_json_string(out, members[i].first);
      out.push_back(':');
      append_json_string(out, members[i].second);
    }
    out.push_back('}');
    return raw(std::move(out));
  }

  /// The JSON text.
  const std::string& json() const& noexcept { return json_; }
  /// The JSON text, moved out.
  std::string json() && noexcept { return std::move(json_); }

 private:
  struct RawTag {};
  Value(RawTag, std::string json_text) : json_(std::move(json_text)) {}

  std::string json_;
};

/// The success answer, {"status":"success","retval":...} with this retval; send it with
/// HTTP 200 and #content_type.
inline std::string success_body(const Value& retval) {
  std::string out = R"({"status":"success","retval":)";
  out.append(retval.json());
  out.push_back('}');
  return out;
}

/// The failure answer, {"status":"failure","reason":"..."} with this reason (escaped as
/// json_string()): http_task raises RemoteExecuteError with it. Send it with HTTP 200.
inline std::string failure_body(std::string_view reason) {
  std::string out = R"({"status":"failure","reason":)";
  append_json_string(out, reason);
  out.push_back('}');
  return out;
}

/// Parses an application/x-www-form-urlencoded text as browsers and http_task write it:
/// "a=1&b=two+words" gives a = "1", b = "two words".
///
/// Pairs keep their order and repeats; a pair without '=' has an empty value; empty
/// pairs ("a=1&&b=2") are skipped. Decoding is lenient: a '%' not followed by two hex
/// digits stays as it is. Never throws for bad input.
inline Params parse_form(std::string_view text) {
  Params params;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      params.add(detail::form_decode(pair), std::string());
    } else {
      params.add(detail::form_decode(pair.substr(0, eq)), detail::form_decode(pair.substr(eq + 1)));
    }
  }
  return params;
}

/// The arguments in the query of a request target or URL ("/multiply?x=10&y=10", or a
/// full URL): the text between the first '?' and the '#', parsed as a form
/// (parse_form()). No '?': no arguments.
inline Params parse_query(std::string_view target) {
  const std::size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return Params();
  return parse_form(target.substr(question + 1));
}

/// The call's arguments, where http_task and Celery put them: GET and HEAD carry them in
/// the query, any other method in the form body.
///
/// The body is read as a form whatever its Content-Type says (Celery 2.2 labelled its
/// form bodies application/json, Celery issue 515); the query of a POST is left alone,
/// as Django's request.POST does. A JSON body (URL::post_json()) is not parsed here.
inline Params call_arguments(std::string_view method, std::string_view target,
                             std::string_view body) {
  if (method == "GET" || method == "HEAD") return parse_query(target);
  return parse_form(body);
}

}  // namespace webhook
}  // namespace v1
}  // namespace http_task
