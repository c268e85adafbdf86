// SPDX-License-Identifier: MIT
// C++20: co_await a webhook call; a coroutine returning AsyncResult is itself a result
// that can be awaited, continued with then(), or waited for. Nothing blocks a thread
// until main() asks for the final value.
//
//   coroutine [http://127.0.0.1:8000/multiply]
#include <http_task/http_task.hpp>

#include <iostream>
#include <string>

#if defined(__cpp_impl_coroutine)
#include <vector>

// x^4 in two webhook calls, each awaited without blocking.
http_task::AsyncResult<long> fourth_power(http_task::URL multiply, long x) {
  // Arguments are named before co_await: GCC 12 miscompiles a braced list inside it.
  http_task::Params square{{"x", x}, {"y", x}};
  long x2 = co_await multiply.get_async<long>(std::move(square));
  http_task::Params again{{"x", x2}, {"y", x2}};
  co_return co_await multiply.get_async<long>(std::move(again));
}

http_task::AsyncResult<long> sum_of_fourth_powers(http_task::URL multiply, int n) {
  std::vector<http_task::AsyncResult<long>> parts;
  for (int i = 1; i <= n; ++i) parts.push_back(fourth_power(multiply, i));
  long sum = 0;
  for (auto& part : co_await http_task::when_all(std::move(parts))) sum += part.get();
  co_return sum;
}

int main(int argc, char** argv) {
  std::string endpoint = argc > 1 ? argv[1] : "http://127.0.0.1:8000/multiply";
  http_task::Client client;
  http_task::URL multiply(endpoint, client);
  try {
    std::cout << "sum of i^4 for i = 1..10: " << sum_of_fourth_powers(multiply, 10).get()
              << "\n";  // 25333
  } catch (const http_task::Error& e) {
    std::cerr << "coroutine: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

#else
int main() {
  std::cout << "coroutine: needs C++20 coroutines\n";
  return 0;
}
#endif
