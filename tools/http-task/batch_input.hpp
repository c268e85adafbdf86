// SPDX-License-Identifier: MIT
// Batch input: one call per line, as a JSON object or as `[METHOD] URL name=value ...`.
#pragma once

#include <http_task/json.hpp>
#include <http_task/request.hpp>

#include "command_line.hpp"

#include <rapidjson/document.h>

#include <cstddef>
#include <exception>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http_task_cli {

// One input line: a request to send, or why the line cannot be one.
struct BatchJob {
  std::size_t line = 0;
  std::optional<http_task::Request> request;
  std::string error;
};

// Splits like a POSIX shell, without expansions: blanks separate words, '...' is literal,
// "..." honours \" and \\, a backslash elsewhere escapes the next character.
inline std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r') {
      if (in_word) words.push_back(std::exchange(word, std::string()));
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      const auto close = text.find('\'', i + 1);
      if (close == std::string_view::npos) throw UsageError("unterminated ' quote");
      word.append(text.substr(i + 1, close - i - 1));
      i = close;
    } else if (c == '"') {
      for (++i;; ++i) {
        if (i >= text.size()) throw UsageError("unterminated \" quote");
        if (text[i] == '"') break;
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
          ++i;
        }
        word += text[i];
      }
    } else if (c == '\\') {
      if (i + 1 < text.size()) word += text[++i];
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

// An argument value from JSON: strings as they are, numbers and booleans as their JSON
// text (6 -> "6", 2.5 -> "2.5"), which is what Celery's str() sent for them.
inline std::string arg_text(const rapidjson::Value& v, const std::string& name) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNumber()) {
    // Json's own writer, through a non-owning alias: v outlives this statement.
    return http_task::Json(std::shared_ptr<const rapidjson::Value>(
                               std::shared_ptr<const rapidjson::Value>(), &v))
        .dump();
  }
  throw UsageError("args." + name + ": expected a string, number, boolean or an array of them");
}

inline std::string member_name(const rapidjson::Value::ConstMemberIterator& it) {
  return std::string(it->name.GetString(), it->name.GetStringLength());
}

inline http_task::Request parse_json_line(std::string_view text, const Options& defaults) {
  const http_task::Json doc = http_task::Json::parse(text);
  if (!doc.is_object())
    throw UsageError(std::string("expected a JSON object, got ") + doc.type_name());
  http_task::Request request;
  request.method = defaults.method;
  request.options = defaults.call;
  bool has_url = false;
  // Json has no member iteration; the RapidJSON value it wraps has, in document order.
  const rapidjson::Value& object = doc.value();
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const std::string key = member_name(it);
    const rapidjson::Value& v = it->value;
    if (key == "url") {
      if (!v.IsString()) throw UsageError("\"url\" must be a string");
      request.url.assign(v.GetString(), v.GetStringLength());
      has_url = true;
    } else if (key == "method") {
      if (!v.IsString()) throw UsageError("\"method\" must be a string");
      request.method = to_upper(std::string_view(v.GetString(), v.GetStringLength()));
    } else if (key == "args") {
      if (!v.IsObject()) throw UsageError("\"args\" must be an object");
      for (auto a = v.MemberBegin(); a != v.MemberEnd(); ++a) {
        const std::string name = member_name(a);
        if (a->value.IsArray()) {
          for (const auto& element : a->value.GetArray()) {
            request.params.add(name, arg_text(element, name));
          }
        } else {
          request.params.add(name, arg_text(a->value, name));
        }
      }
    } else if (key == "headers") {
      if (!v.IsObject()) throw UsageError("\"headers\" must be an object");
      for (auto h = v.MemberBegin(); h != v.MemberEnd(); ++h) {
        if (!h->value.IsString()) {
          throw UsageError("headers." + member_name(h) + ": expected a string");
        }
        set_header(request.options.headers,
                   {member_name(h), std::string(h->value.GetString(), h->value.GetStringLength())});
      }
    } else if (key == "timeout") {
      if (!v.IsNumber()) throw UsageError("\"timeout\" must be a number of seconds");
      request.options.timeout = seconds_to_ms(v.GetDouble(), "\"timeout\"", "");
    } else {
      // A typo ("arg", "URL") would otherwise send a call without what was meant.
      throw UsageError("unknown key \"" + key +
                       "\" (expected url, method, args, headers, timeout)");
    }
  }
  if (!has_url) throw UsageError("missing \"url\"");
  return request;
}

inline http_task::Request parse_text_line(std::string_view text, const Options& defaults) {
  std::vector<std::string> words = split_words(text);
  http_task::Request request;
  request.method = defaults.method;
  request.options = defaults.call;
  std::size_t next = 0;
  // Any bare word before the URL is its method (OPTIONS too): the library checks it.
  if (words.size() > 1 && words[0].find("://") == std::string::npos &&
      words[0].find('=') == std::string::npos) {
    request.method = to_upper(words[next++]);
  }
  request.url = words[next++];
  for (; next < words.size(); ++next) add_param(request.params, words[next]);
  return request;
}

// Reads the whole input first so that the progress bar knows the total.
inline std::vector<BatchJob> read_batch(std::istream& in, const Options& defaults) {
  std::vector<BatchJob> jobs;
  std::string text;
  for (std::size_t line = 1; std::getline(in, text); ++line) {
    const std::string_view content = trim(text);
    std::string_view body = content;
    while (!body.empty() && (body.back() == '\r' || body.back() == ' ' || body.back() == '\t'))
      body.remove_suffix(1);
    if (body.empty() || body.front() == '#') continue;
    BatchJob job;
    job.line = line;
    try {
      job.request =
          body.front() == '{' ? parse_json_line(body, defaults) : parse_text_line(body, defaults);
    } catch (const std::exception& e) {
      job.error = e.what();
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace http_task_cli
