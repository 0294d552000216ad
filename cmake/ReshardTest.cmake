# reshard_test(NAME src... LIBS lib... [LABELS label...])
# Builds one gtest binary and registers its tests with ctest.
include(GoogleTest)
function(reshard_test name)
  cmake_parse_arguments(ARG "" "" "LIBS;LABELS" ${ARGN})
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
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${labels}")
endfunction()
