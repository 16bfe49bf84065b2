# ephemera_add_library(NAME name [SOURCES ...] [DEPS ...] [PRIVATE_DEPS ...] [DEFINES ...])
#
# Declares one of Ephemera's libraries (in the manner of abseil's absl_cc_library): the include root
# is the repository, DEPS are public (a user of this library sees their headers), PRIVATE_DEPS are
# this library's own business, and the project's warning flags apply. Without SOURCES it is a
# header-only (INTERFACE) library. A library lists only what it needs, so that the target graph is
# the architecture: a pure library that does not list cpprestsdk cannot include it.
function(ephemera_add_library)
  cmake_parse_arguments(L "" "NAME" "SOURCES;DEPS;PRIVATE_DEPS;DEFINES" ${ARGN})
  if(NOT L_NAME)
    message(FATAL_ERROR "ephemera_add_library: NAME is required")
  endif()
  if(L_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ephemera_add_library(${L_NAME}): unknown arguments ${L_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT L_SOURCES)
    add_library(${L_NAME} INTERFACE)
    target_include_directories(${L_NAME} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${L_NAME} INTERFACE ${L_DEPS})
    return()
  endif()
  add_library(${L_NAME} ${L_SOURCES})
  target_include_directories(${L_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${L_NAME} PUBLIC ${L_DEPS} PRIVATE ${L_PRIVATE_DEPS} ephemera_warnings)
  if(L_DEFINES)
    target_compile_definitions(${L_NAME} PRIVATE ${L_DEFINES})
  endif()
endfunction()
