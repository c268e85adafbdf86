# SPDX-License-Identifier: MIT
# Run by http_task_discover_cases() after a test binary is linked: writes CTEST_FILE, the
# add_test() of each Catch2 case of each source file in TEST_STEMS (comma separated).
# Case names go through strings only, never CMake lists: they may hold ';'.
if(NOT EXISTS "${TEST_EXECUTABLE}")
  message(FATAL_ERROR "test executable '${TEST_EXECUTABLE}' does not exist")
endif()

set(_script "")
set(_count 0)
string(REPLACE "," ";" _stems "${TEST_STEMS}")
foreach(_stem IN LISTS _stems)
  string(REGEX REPLACE "^test_" "" _area "${_stem}")
  # "~[.]": a tag filter alone also lists the hidden cases ([.]), which are run by hand only.
  execute_process(
    COMMAND "${TEST_EXECUTABLE}" "-#" "[#${_stem}]~[.]" --list-test-names-only
    OUTPUT_VARIABLE _output
    RESULT_VARIABLE _result
    WORKING_DIRECTORY "${TEST_WORKING_DIR}")
  # Catch2 v2 exits with the number of cases listed; a negative or non-numeric result is a crash.
  if(NOT _result MATCHES "^[0-9]+$")
    message(FATAL_ERROR "listing the cases of '${TEST_EXECUTABLE}' failed: ${_result}\n${_output}")
  endif()
  while(NOT _output STREQUAL "")
    string(FIND "${_output}" "\n" _end)
    if(_end EQUAL -1)
      set(_name "${_output}")
      set(_output "")
    else()
      string(SUBSTRING "${_output}" 0 ${_end} _name)
      math(EXPR _next "${_end} + 1")
      string(SUBSTRING "${_output}" ${_next} -1 _output)
    endif()
    string(REGEX REPLACE "\r$" "" _name "${_name}")
    if(_name STREQUAL "")
      continue()
    endif()
    # On Catch2's command line '\', ',', '[', ']', '"' and '~' are syntax: escape them so the
    # argument names exactly this case.
    string(REGEX REPLACE "([][\\,\"~])" "\\\\\\1" _spec "${_name}")
    set(_test "${TEST_KIND}.${_area}: ${_name}")
    string(APPEND _script
           "add_test([==[${_test}]==] \"${TEST_EXECUTABLE}\" [==[${_spec}]==] --warn NoTests)\n"
           "set_tests_properties([==[${_test}]==] PROPERTIES WORKING_DIRECTORY "
           "\"${TEST_WORKING_DIR}\" LABELS \"${TEST_KIND};${_area}\" TIMEOUT ${TEST_TIMEOUT})\n")
    math(EXPR _count "${_count} + 1")
  endwhile()
endforeach()
if(_count EQUAL 0)
  message(FATAL_ERROR "'${TEST_EXECUTABLE}' lists no test case for ${TEST_STEMS}")
endif()
file(WRITE "${CTEST_FILE}" "${_script}")
