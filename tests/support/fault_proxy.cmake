# cairn_fault_proxy: a gRPC proxy that forwards every method to a real
# backend and injects faults (failed calls, dropped streams), for the
# remote sandbox's recovery tests. For tests only.
add_library(cairn_fault_proxy STATIC ${CMAKE_CURRENT_LIST_DIR}/fault_proxy.cc)
add_library(cairn::fault_proxy ALIAS cairn_fault_proxy)
target_include_directories(cairn_fault_proxy PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(cairn_fault_proxy PUBLIC gRPC::grpc++ Threads::Threads)

# The proxy between a client and the real cairn-server in-process, wired
# like tests/server's tests (server_fixture.h).
add_executable(fault_proxy_test ${CMAKE_CURRENT_LIST_DIR}/fault_proxy_test.cc)
target_include_directories(fault_proxy_test PRIVATE
  ${PROJECT_SOURCE_DIR}/tests/runtime ${PROJECT_SOURCE_DIR}/tests/server)
target_compile_definitions(fault_proxy_test PRIVATE
  CAIRN_PLUGIN_DIR="${CAIRN_PLUGIN_OUTPUT_DIRECTORY}")
target_link_libraries(fault_proxy_test PRIVATE
  cairn::fault_proxy cairn::server cairn::remote_client GTest::gmock GTest::gtest_main
  Threads::Threads)
add_dependencies(fault_proxy_test cairn_plugin_bwrap cairn_plugin_cas-local)
gtest_discover_tests(fault_proxy_test DISCOVERY_TIMEOUT 30)
