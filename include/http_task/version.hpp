// SPDX-License-Identifier: MIT
// The one place the version lives; CMake reads it from here.
#pragma once

/// \file
/// The library's version, as macros (included by http_task.hpp).
///
/// Every name of the library is declared in the inline namespace `http_task::v1`, the ABI
/// version: code writes `http_task::Client`, the linker sees `http_task::v1::Client`. A
/// program that links two builds of different ABI versions (a plugin, a static library
/// built against another release) so gets two sets of symbols, each with its own
/// default_client(), instead of one silently shared. A release that changes the ABI
/// changes the namespace's name.

/// The major version number.
#define HTTP_TASK_VERSION_MAJOR 0
/// The minor version number.
#define HTTP_TASK_VERSION_MINOR 1
/// The patch version number.
#define HTTP_TASK_VERSION_PATCH 0

#define HTTP_TASK_DETAIL_STR2(x) #x
#define HTTP_TASK_DETAIL_STR(x) HTTP_TASK_DETAIL_STR2(x)

/// The version as a string literal, "0.1.0": sent in the User-Agent header as
/// `http_task/<version>`.
#define HTTP_TASK_VERSION_STRING                                              \
  HTTP_TASK_DETAIL_STR(HTTP_TASK_VERSION_MAJOR)                               \
  "." HTTP_TASK_DETAIL_STR(HTTP_TASK_VERSION_MINOR) "." HTTP_TASK_DETAIL_STR( \
      HTTP_TASK_VERSION_PATCH)

/// The version as one integer, for preprocessor comparisons: 10203 is 1.2.3.
#define HTTP_TASK_VERSION \
  (HTTP_TASK_VERSION_MAJOR * 10000 + HTTP_TASK_VERSION_MINOR * 100 + HTTP_TASK_VERSION_PATCH)
