# Test registration shared by every directory.
#   dpf_add_unit_test(NAME test_x SOURCES a.c b.c [LIBS extra...])
#     a cmocka test, no servers, label "unit".
#   dpf_add_integration_test(NAME test_x SOURCES a.c [LIBS ...])
#     runs against the real PostgreSQL and nats-server that scripts/test
#     started; gets DPF_TEST_PG_URL (admin URL, create your own database with
#     dpf_test_db_create) and NATS_URL. Label "integration", run serially.
# Every test links tests/support/dpf_capture.c (stderr captured for checks
# on log lines); integration tests also tests/support/dpf_test.c.
set(DPF_TEST_SUPPORT_DIR ${CMAKE_SOURCE_DIR}/tests/support)

function(dpf_add_unit_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES} ${DPF_TEST_SUPPORT_DIR}/dpf_capture.c)
  target_include_directories(${T_NAME} PRIVATE ${DPF_TEST_SUPPORT_DIR})
  target_link_libraries(${T_NAME} PRIVATE dpf PkgConfig::CMOCKA ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES LABELS unit TIMEOUT 60)
endfunction()

function(dpf_add_integration_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES} ${DPF_TEST_SUPPORT_DIR}/dpf_test.c
                 ${DPF_TEST_SUPPORT_DIR}/dpf_capture.c)
  target_include_directories(${T_NAME} PRIVATE ${DPF_TEST_SUPPORT_DIR})
  target_compile_definitions(${T_NAME} PRIVATE DPF_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  target_link_libraries(${T_NAME} PRIVATE dpf PkgConfig::CMOCKA ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES LABELS integration TIMEOUT 300 RESOURCE_LOCK servers)
endfunction()
