# reshard_test(NAME src... LIBS lib... [LABELS label] [TIMEOUT seconds])
# Builds one gtest binary and registers its tests with ctest. TIMEOUT bounds
# each of its tests (else ctest's --timeout, or its default, applies).
include(GoogleTest)

# Test binaries are compiled at -O1 with line tables (they need no more, and
# they are most of the build), against one precompiled header of gtest, absl
# and asio shared by all of them (REUSE_FROM needs identical flags, so the
# header's own target gets the same options and definitions).
set(RESHARD_TEST_COMPILE_OPTIONS -pthread $<$<CONFIG:RelWithDebInfo>:-O1 -g1>)
set(RESHARD_TEST_DEFINITIONS
  RESHARD_FIXTURES_DIR="${RESHARD_FIXTURES_DIR}"
  RESHARD_BINARY_DIR="${CMAKE_BINARY_DIR}"
  RESHARD_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_library(reshard_test_pch STATIC ${CMAKE_SOURCE_DIR}/tests/support/test_pch.cc)
target_link_libraries(reshard_test_pch PRIVATE reshard_asio absl::status absl::statusor
  absl::strings absl::time GTest::gtest GTest::gmock)
target_compile_options(reshard_test_pch PRIVATE ${RESHARD_TEST_COMPILE_OPTIONS})
target_compile_definitions(reshard_test_pch PRIVATE ${RESHARD_TEST_DEFINITIONS})
target_precompile_headers(reshard_test_pch PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/test_pch.h)

function(reshard_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} reshard_asio GTest::gtest GTest::gmock
    GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE ${RESHARD_TEST_DEFINITIONS})
  target_compile_options(${name} PRIVATE ${RESHARD_TEST_COMPILE_OPTIONS})
  target_precompile_headers(${name} REUSE_FROM reshard_test_pch)
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  # Parameterised suites name their instances (INSTANTIATE_TEST_SUITE_P with a
  # name generator): NO_PRETTY_VALUES keeps ctest's name to that name, without
  # gtest's "# GetParam() = ..." comment.
  # One label only: gtest_discover_tests passes PROPERTIES on as a flat list,
  # so a second label would be read as the next property's name.
  set(properties LABELS "${labels}")
  if(ARG_TIMEOUT)
    list(APPEND properties TIMEOUT ${ARG_TIMEOUT})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 NO_PRETTY_VALUES
    PROPERTIES ${properties})
endfunction()
