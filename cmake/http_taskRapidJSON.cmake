# SPDX-License-Identifier: MIT
# Defines the imported target http_task::rapidjson and sets HTTP_TASK_RAPIDJSON_FOUND. Used by
# the build and, installed beside http_taskConfig.cmake, by consumers of the installed package.
#
# Debian's RapidJSONConfig.cmake (1.1.0) only sets RAPIDJSON_INCLUDE_DIRS; newer upstream
# configs export a `RapidJSON` target; without any config the header is found by path.
# An IMPORTED target makes the include directory SYSTEM for every consumer, so RapidJSON's
# deprecation warnings never break a -Werror build.
set(HTTP_TASK_RAPIDJSON_FOUND TRUE)
if(NOT TARGET http_task::rapidjson)
  find_package(RapidJSON CONFIG QUIET)
  if(TARGET RapidJSON)
    add_library(http_task::rapidjson INTERFACE IMPORTED)
    target_link_libraries(http_task::rapidjson INTERFACE RapidJSON)
  else()
    find_path(
      HTTP_TASK_RAPIDJSON_INCLUDE_DIR rapidjson/rapidjson.h
      HINTS ${RAPIDJSON_INCLUDE_DIRS} ${RapidJSON_INCLUDE_DIRS} ${HTTP_TASK_RAPIDJSON_INCLUDE_HINT}
      DOC "Directory holding rapidjson/rapidjson.h")
    if(HTTP_TASK_RAPIDJSON_INCLUDE_DIR)
      add_library(http_task::rapidjson INTERFACE IMPORTED)
      set_target_properties(http_task::rapidjson PROPERTIES INTERFACE_INCLUDE_DIRECTORIES
                                                            "${HTTP_TASK_RAPIDJSON_INCLUDE_DIR}")
    else()
      set(HTTP_TASK_RAPIDJSON_FOUND FALSE)
    endif()
  endif()
endif()
