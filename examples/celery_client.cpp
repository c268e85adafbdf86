// SPDX-License-Identifier: MIT
// Applies tasks on the example Celery cluster (examples/celery_gateway) through its HTTP
// gateway and prints what comes back: values, many tasks in flight, a task's failure, a
// revoked task, an unknown task name.
//
//   celery_client [http://127.0.0.1:8000/]      (start the cluster with cluster.sh 8000)
#include <http_task/celery.hpp>
#include <http_task/http_task.hpp>

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using http_task::Json;
  std::string base_url = argc > 1 ? argv[1] : "http://127.0.0.1:8000/";

  http_task::Client client;
  http_task::celery::Gateway celery(base_url, client);

  try {
    auto sum = celery.apply_async<int>("tasks.add", Json::array({Json::from(2), Json::from(3)}));
    std::cout << "tasks.add(2, 3)        = " << sum.get() << "   (task " << sum.id() << ")\n";

    // Waiting tasks are followed from the Client's loop: no thread per task.
    std::vector<http_task::AsyncResult<int>> squares;
    for (int i = 1; i <= 20; ++i) {
      squares.push_back(
          celery.apply_async<int>("tasks.multiply", Json::array({Json::from(i), Json::from(i)})));
    }
    int total = 0;
    for (auto& square : squares) total += square.get();
    std::cout << "sum of 20 tasks.multiply(i, i) = " << total << "\n";

    auto failed =
        celery.apply_async("tasks.fail", Json::array({Json::from("Invalid moon alignment.")}));
    try {
      failed.get();
    } catch (const http_task::celery::TaskFailedError& e) {
      std::cout << "tasks.fail(...) raised  " << e.exc_type() << ": " << e.reason() << "\n";
    }

    auto slow = celery.apply_async("tasks.sleep", Json::array({Json::from(60)}));
    celery.revoke(slow.id(), true).get();
    try {
      slow.get();
    } catch (const http_task::CancelledError&) {
      std::cout << "tasks.sleep(60)        revoked   (task " << slow.id() << ")\n";
    }

    try {
      celery.apply_async("tasks.no_such_task").get();
    } catch (const http_task::HttpError& e) {
      std::cout << "tasks.no_such_task     HTTP " << e.status_code() << "\n";
    }
  } catch (const http_task::Error& e) {
    std::cerr << "celery_client: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
