# reshard_test(NAME src... LIBS lib... [LABELS label] [TIMEOUT seconds])
# Builds one gtest binary and registers its tests with ctest. TIMEOUT bounds
# each of its tests (else ctest's --timeout, or its default, applies).
include(GoogleTest)
function(reshard_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    RESHARD_FIXTURES_DIR="${RESHARD_FIXTURES_DIR}"
    RESHARD_BINARY_DIR="${CMAKE_BINARY_DIR}"
    RESHARD_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
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
