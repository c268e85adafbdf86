// SPDX-License-Identifier: MIT
// The second translation unit of the ODR check (see odr_first_tu.cpp).
#include <http_task/http_task.hpp>
#include <http_task/testing.hpp>  // not in http_task.hpp, so named here

#include <string>

std::string odr_second_tu_version() { return HTTP_TASK_VERSION_STRING; }
