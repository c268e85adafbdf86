// SPDX-License-Identifier: MIT
// A fresh directory under /tmp, removed with its contents by the destructor.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace http_task_test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/http_task_test.XXXXXX";  // short: Unix socket paths fit
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace http_task_test
