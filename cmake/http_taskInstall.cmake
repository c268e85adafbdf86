# SPDX-License-Identifier: MIT
# Install rules: headers, the CMake package (share/cmake/http_task) and a relocatable
# pkg-config file (share/pkgconfig). The library is header-only, so everything is
# architecture independent and lives under share/.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(HTTP_TASK_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/cmake/http_task")

install(TARGETS http_task EXPORT http_taskTargets FILE_SET HEADERS)
if(TARGET http_task_signing)
  install(TARGETS http_task_signing EXPORT http_taskTargets)
endif()
install(EXPORT http_taskTargets NAMESPACE http_task:: DESTINATION "${HTTP_TASK_CMAKE_INSTALL_DIR}")

# Recorded in the config as a hint for finding RapidJSON again on the consumer's side.
get_target_property(HTTP_TASK_RAPIDJSON_INCLUDE_HINT http_task::rapidjson
                    INTERFACE_INCLUDE_DIRECTORIES)
if(NOT HTTP_TASK_RAPIDJSON_INCLUDE_HINT)
  set(HTTP_TASK_RAPIDJSON_INCLUDE_HINT "")
endif()

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/http_taskConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/http_taskConfig.cmake"
  INSTALL_DESTINATION "${HTTP_TASK_CMAKE_INSTALL_DIR}"
  NO_SET_AND_CHECK_MACRO NO_CHECK_REQUIRED_COMPONENTS_MACRO)
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/http_taskConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/http_taskConfig.cmake"
              "${PROJECT_BINARY_DIR}/http_taskConfigVersion.cmake"
              "${CMAKE_CURRENT_LIST_DIR}/http_taskRapidJSON.cmake"
        DESTINATION "${HTTP_TASK_CMAKE_INSTALL_DIR}")

# pkg-config: RapidJSON has no -I of its own when it sits in the compiler's default path.
set(HTTP_TASK_PC_EXTRA_CFLAGS "")
if(HTTP_TASK_RAPIDJSON_INCLUDE_HINT AND NOT HTTP_TASK_RAPIDJSON_INCLUDE_HINT STREQUAL "/usr/include")
  foreach(_dir IN LISTS HTTP_TASK_RAPIDJSON_INCLUDE_HINT)
    string(APPEND HTTP_TASK_PC_EXTRA_CFLAGS " -I${_dir}")
  endforeach()
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/http_task.pc.in" "${PROJECT_BINARY_DIR}/http_task.pc" @ONLY)
configure_file("${CMAKE_CURRENT_LIST_DIR}/http_task_signing.pc.in"
               "${PROJECT_BINARY_DIR}/http_task_signing.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/http_task.pc" "${PROJECT_BINARY_DIR}/http_task_signing.pc"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/pkgconfig")
