// SPDX-License-Identifier: MIT
// Celery 2.2's webhook answer rules (shared/PROTOCOL.md section 2): HTTP status and body in,
// the retval or the error out. Content-Type plays no part, as in Celery.
#pragma once

#include <http_task/detail/decode/json_parser.hpp>
#include <http_task/detail/future/outcome.hpp>
#include <http_task/error.hpp>
#include <http_task/json.hpp>

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

namespace http_task {
inline namespace v1 {
namespace detail {

struct DecodeLimits {
  std::size_t max_depth = 128;  // nested arrays/objects in an answer, its own object included
  std::size_t max_error_body = std::size_t{16} * 1024;  // bytes of a non-2xx body kept in HttpError
};

// The members of the answer object that the protocol reads.
struct AnswerFields {
  const rapidjson::Value* status = nullptr;
  const rapidjson::Value* retval = nullptr;
  const rapidjson::Value* reason = nullptr;
  const char* duplicate = nullptr;  // the first protocol key seen twice
};

inline AnswerFields answer_fields(const rapidjson::Value& object) noexcept {
  AnswerFields fields;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const rapidjson::Value** slot = nullptr;
    const char* name = nullptr;
    if (key_equals(it->name, "status")) {
      slot = &fields.status;
      name = "status";
    } else if (key_equals(it->name, "retval")) {
      slot = &fields.retval;
      name = "retval";
    } else if (key_equals(it->name, "reason")) {
      slot = &fields.reason;
      name = "reason";
    }
    if (slot == nullptr) continue;
    if (*slot != nullptr && fields.duplicate == nullptr) fields.duplicate = name;
    *slot = &it->value;
  }
  return fields;
}

// A string as its bytes, anything else as its compact JSON text; absent or null: "".
inline std::string text_of(const rapidjson::Value* v) {
  if (v == nullptr || v->IsNull()) return std::string();
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  return dump_value(*v);
}

inline bool is_json_whitespace(std::string_view body) noexcept {
  for (char c : body) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

// The start of a non-2xx body, not cut inside a UTF-8 sequence.
inline std::string capped_body(std::string_view body, std::size_t cap) {
  if (body.size() <= cap) return std::string(body);
  std::size_t end = cap;
  for (int back = 0; back < 3 && end > 0 && (static_cast<unsigned char>(body[end]) & 0xC0) == 0x80;
       ++back) {
    --end;
  }
  if ((static_cast<unsigned char>(body[end]) & 0xC0) == 0x80) end = cap;  // not UTF-8 anyway
  return std::string(body.substr(0, end));
}

// The reason of a failure answer carried by an error page, else "".
inline std::string failure_reason_in(std::string_view body, const DecodeLimits& limits) {
  if (body.empty()) return std::string();
  ParseResult parsed = parse_json(body, limits.max_depth);
  if (!parsed.ok() || !parsed.value.is_object()) return std::string();
  const AnswerFields fields = answer_fields(parsed.value.value());
  if (fields.status == nullptr || !fields.status->IsString() ||
      !key_equals(*fields.status, "failure")) {
    return std::string();
  }
  return text_of(fields.reason);
}

inline Outcome decode_answer_or_throw(long http_status, std::string_view body,
                                      const DecodeLimits& limits, std::string* owner) {
  if (http_status < 200 || http_status > 299) {
    return Outcome::failure(HttpError(http_status, capped_body(body, limits.max_error_body),
                                      failure_reason_in(body, limits)));
  }
  if (body.empty()) return Outcome::failure(InvalidResponseError("empty response body"));
  if (is_json_whitespace(body)) {
    return Outcome::failure(InvalidResponseError("empty response body (only whitespace)"));
  }
  // A parse in the body's own buffer changes it: what an error quotes is taken first.
  const std::string taken_preview = owner ? quoted_preview(body, 48) : std::string();
  const auto begins = [&] { return owner ? taken_preview : quoted_preview(body, 48); };
  ParseResult parsed = parse_json(body, limits.max_depth, owner);
  if (!parsed.ok()) {
    return Outcome::failure(InvalidResponseError(
        "webhook answer is not valid JSON: " + parsed.error + "; body begins " + begins()));
  }
  const rapidjson::Value& root = parsed.value.value();
  if (!root.IsObject()) {
    return Outcome::failure(InvalidResponseError(
        std::string("webhook answer is a JSON ") + type_name(root) +
        ", expected an object with a \"status\" key; body begins " + begins()));
  }
  const AnswerFields fields = answer_fields(root);
  if (fields.duplicate != nullptr) {
    return Outcome::failure(InvalidResponseError(std::string("webhook answer has the key \"") +
                                                 fields.duplicate +
                                                 "\" more than once (ambiguous)"));
  }
  if (fields.status == nullptr) {
    return Outcome::failure(
        InvalidResponseError("webhook answer has no \"status\" key; body begins " + begins()));
  }
  if (fields.status->IsString() && key_equals(*fields.status, "success")) {
    if (fields.retval == nullptr) {
      return Outcome::failure(
          InvalidResponseError("webhook answer has status \"success\" but no \"retval\" key"));
    }
    if (fields.retval->IsNull()) return Outcome::success(Json());
    return Outcome::success(JsonAccess::alias(parsed.value, *fields.retval));
  }
  if (fields.status->IsString() && key_equals(*fields.status, "failure")) {
    return Outcome::failure(RemoteExecuteError(text_of(fields.reason)));
  }
  // A status that is not a string (1, null, ...) is reported as its JSON text.
  const std::string status =
      fields.status->IsString() ? text_of(fields.status) : dump_value(*fields.status);
  return Outcome::failure(UnknownStatusError(status));
}

// Turns one HTTP answer into the call's outcome. Never throws: every problem, even running
// out of memory, becomes the Outcome's error.
inline Outcome decode_answer(long http_status, std::string_view body,
                             const DecodeLimits& limits) noexcept {
  try {
    return decode_answer_or_throw(http_status, body, limits, nullptr);
  } catch (...) {
    return Outcome::failure(std::current_exception());
  }
}

// The same from the answer's own buffer, which the value may keep instead of a copy of
// it: body is left empty when taken, else as it was. For large answers, whose copy
// costs a block as large as they are.
inline Outcome decode_answer_in_place(long http_status, std::string& body,
                                      const DecodeLimits& limits) noexcept {
  try {
    return decode_answer_or_throw(http_status, body, limits, &body);
  } catch (...) {
    return Outcome::failure(std::current_exception());
  }
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
