// SPDX-License-Identifier: MIT
// The same fan-out with Boost.Asio's thread_pool as the executor: the adapter is one
// lambda. Built as a stub when Boost.Asio is not installed (Debian: libboost-dev).
//
//   asio_thread_pool [http://127.0.0.1:8000/multiply]
#include <http_task/http_task.hpp>

#include <iostream>

#if __has_include(<boost/asio/post.hpp>) && __has_include(<boost/asio/thread_pool.hpp>)
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <future>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::string endpoint = argc > 1 ? argv[1] : "http://127.0.0.1:8000/multiply";
  boost::asio::thread_pool pool(4);

  // The whole adapter: an http_task::Job is a copyable nullary callable, which is what
  // asio::post wants.
  http_task::ClientOptions options;
  options.executor = [&pool](http_task::Job job) { boost::asio::post(pool, std::move(job)); };
  http_task::Client client(options);
  http_task::URL multiply(endpoint, client);

  std::atomic<int> correct{0};
  std::vector<http_task::AsyncResult<void>> calls;
  for (int i = 0; i < 1000; ++i) {
    calls.push_back(multiply.get_async<int>({{"x", i}, {"y", 3}}).then([&correct, i](int n) {
      if (n == 3 * i) ++correct;
    }));
  }

  std::promise<void> finished;
  http_task::when_all(std::move(calls)).then([&](std::vector<http_task::AsyncResult<void>> done) {
    int failed = 0;
    for (auto& r : done) {
      try {
        r.get();
      } catch (const http_task::Error&) {
        ++failed;
      }
    }
    std::cout << "1000 calls on an asio::thread_pool: " << correct << " correct, " << failed
              << " failed\n";
    finished.set_value();
  });
  finished.get_future().wait();
  pool.join();
  return correct == 1000 ? 0 : 1;
}

#else
int main() {
  std::cout << "asio_thread_pool: built without Boost.Asio (install libboost-dev)\n";
  return 0;
}
#endif
