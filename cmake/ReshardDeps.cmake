# How each Debian 12 package is found (see BUILD-NOTES in the design folder).
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(liblzf CONFIG REQUIRED)
# libssl-dev: the engine's TLS links (engine/io/net_stream.h, asio/ssl.hpp),
# the secret files' encryption (server/secret_box) and the API's certificate
# checks.
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
if(NOT TARGET re2::re2)
  add_library(re2::re2 ALIAS PkgConfig::RE2)
endif()
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(reshard_asio INTERFACE)
target_include_directories(reshard_asio INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(reshard_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(reshard_asio INTERFACE Threads::Threads)
