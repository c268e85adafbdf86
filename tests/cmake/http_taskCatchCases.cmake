# SPDX-License-Identifier: MIT
# One ctest per Catch2 test case, so `ctest -R retry` finds the retry cases, `ctest -j2`
# spreads them over cores and a failure names its case.
#
# Not Catch2 2.13's catch_discover_tests(): its script splits the case list on ';' (several
# cases are named "...; ...", which it turns into two tests that run nothing) and cannot give
# a test two labels. The same idea, done here: after each link, the binary lists its cases
# once per source file (`-# [#test_<area>]`: Catch2's file-name tags), and a generated file
# adds them as
#   <kind>.<area>: <case name>      labels <kind> and <area>
# where <area> is the file's name without `test_`. ctest includes that file when it runs;
# a binary not yet built shows up as one failing <target>_NOT_BUILT test.
set(_http_task_list_cases_script "${CMAKE_CURRENT_LIST_DIR}/http_taskListCatchCases.cmake")

# http_task_discover_cases(<target> <kind> <timeout seconds> <source>...)
function(http_task_discover_cases target kind timeout)
  set(_stems "")
  foreach(_source IN LISTS ARGN)
    get_filename_component(_stem "${_source}" NAME_WE)
    list(APPEND _stems "${_stem}")
  endforeach()
  string(REPLACE ";" "," _stems "${_stems}") # one -D value; file names hold no commas
  set(_tests_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_cases.cmake")
  set(_include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_cases_include.cmake")
  add_custom_command(
    TARGET ${target}
    POST_BUILD
    BYPRODUCTS "${_tests_file}"
    COMMAND
      "${CMAKE_COMMAND}" -D "TEST_EXECUTABLE=$<TARGET_FILE:${target}>" -D "TEST_KIND=${kind}"
      -D "TEST_STEMS=${_stems}" -D "TEST_TIMEOUT=${timeout}"
      -D "TEST_WORKING_DIR=${CMAKE_CURRENT_BINARY_DIR}" -D "CTEST_FILE=${_tests_file}" -P
      "${_http_task_list_cases_script}"
    VERBATIM)
  file(WRITE "${_include_file}"
       "if(EXISTS \"${_tests_file}\")\n"
       "  include(\"${_tests_file}\")\n"
       "else()\n"
       "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_include_file}")
endfunction()
