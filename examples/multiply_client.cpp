// SPDX-License-Identifier: MIT
// The Celery documentation's webhook example, in C++: call the Django `multiply`
// webhook (examples/django_webhook) with GET and with POST, and log each call the
// way a Celery worker logged its tasks.
//
//   multiply_client [http://127.0.0.1:8000/multiply]
#include <http_task/http_task.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  std::string endpoint = argc > 1 ? argv[1] : "http://127.0.0.1:8000/multiply";

  http_task::ClientOptions options;
  options.on_call_finished = [](const http_task::CallRecord& record) {
    std::clog << "[INFO/http_task] " << http_task::celery_log_line(record) << "\n";
  };
  http_task::Client client(options);
  http_task::URL multiply(endpoint, client);

  try {
    auto res = multiply.get_async({{"x", 10}, {"y", 10}});
    std::cout << "GET  multiply(10, 10) = " << res.get().as<int>() << "   (id " << res.id()
              << ")\n";

    auto posted = multiply.post_async<int>({{"x", 6}, {"y", 7}});
    std::cout << "POST multiply(6, 7)   = " << posted.get() << "   (id " << posted.id() << ")\n";

    // A webhook failure comes back as an exception carrying the remote reason.
    auto bad = multiply.get_async({{"x", "ten"}, {"y", 10}});
    try {
      bad.get();
    } catch (const http_task::RemoteExecuteError& e) {
      std::cout << "GET  multiply(ten, 10) failed remotely: " << e.reason() << "   (id " << bad.id()
                << ")\n";
    }
  } catch (const http_task::Error& e) {
    std::cerr << "multiply_client: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
