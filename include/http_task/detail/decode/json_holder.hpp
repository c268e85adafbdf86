// SPDX-License-Identifier: MIT
// The block a parsed or built Json lives in: the RapidJSON document, the pool it
// allocates from and, for a parse in place, the text its strings point into. Every Json
// into one value tree shares its holder through a shared_ptr.
#pragma once

#include <http_task/detail/decode/json_stack.hpp>

#include <rapidjson/document.h>

#include <cstddef>
#include <memory>
#include <string>

namespace http_task {
inline namespace v1 {
namespace detail {

// The parsed document and everything it allocates from, in one heap block: a small answer
// fits in inline_buffer_ and costs exactly one allocation.
using Document =
    rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>, StackAllocator>;

struct JsonHolder {
  explicit JsonHolder(std::size_t chunk_bytes, std::size_t stack_bytes)
      : pool(inline_buffer, sizeof(inline_buffer), chunk_bytes, &base),
        document(&pool, stack_bytes, &stack_allocator) {}
  JsonHolder(const JsonHolder&) = delete;
  JsonHolder& operator=(const JsonHolder&) = delete;

  rapidjson::CrtAllocator base;  // stateless; passed so that RapidJSON never new's one
  StackAllocator stack_allocator;
  alignas(std::max_align_t) unsigned char inline_buffer[256];  // the pool's first chunk
  rapidjson::MemoryPoolAllocator<> pool;
  Document document;  // a rapidjson::Value: its allocator type is the default one
  std::string text;   // the text parsed in place, when its buffer was handed over
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task

// The functions below need the Json class complete; json.hpp in turn includes the parser,
// which needs the holder complete: so it comes in between.
#include <http_task/json.hpp>

namespace http_task {
inline namespace v1 {
namespace detail {

// How json_builder.hpp makes and fills a holder of its own.
// Chunks of 1 KiB after the holder's inline 256 bytes: a request body is mostly small.
inline std::shared_ptr<JsonHolder> make_build_holder() {
  return std::make_shared<JsonHolder>(1024, 0);
}
inline rapidjson::MemoryPoolAllocator<>& holder_allocator(JsonHolder& holder) {
  return holder.pool;
}
inline rapidjson::Value& holder_root(JsonHolder& holder) { return holder.document; }
inline Json holder_json(const std::shared_ptr<JsonHolder>& holder) {
  return Json(std::shared_ptr<const rapidjson::Value>(holder, &holder->document));
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
