// SPDX-License-Identifier: MIT
// A libcurl header list that frees itself: the loop's default headers, a call's own,
// an attempt's signed ones. Freed also when the list is half made and something throws.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <new>

namespace http_task {
inline namespace v1 {
namespace detail {

class HeaderList {
 public:
  // Adds one "Name: value" line (libcurl copies it).
  void append(const char* line) {
    curl_slist* next = curl_slist_append(list_.get(), line);
    if (!next) throw std::bad_alloc();
    if (!list_) list_.reset(next);  // later lines go on its tail
  }

  curl_slist* get() const noexcept { return list_.get(); }
  explicit operator bool() const noexcept { return list_ != nullptr; }
  void clear() noexcept { list_.reset(); }

 private:
  struct Free {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
  };
  std::unique_ptr<curl_slist, Free> list_;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
