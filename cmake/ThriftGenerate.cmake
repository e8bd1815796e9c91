# thrift_generate(<target> IDL <file> OUTPUTS <names...> [DEPENDS <idl...>])
#
# Generates C++ from one Thrift IDL file into the build tree and builds it as
# a static library <target>. OUTPUTS lists the .cpp files the compiler writes
# for that IDL (the headers are implied): it must match what the IDL declares,
# since thrift writes X_types only for types and X_constants only for
# constants.
function(thrift_generate target)
  cmake_parse_arguments(ARG "" "IDL" "OUTPUTS;DEPENDS" ${ARGN})
  set(out_dir "${CMAKE_BINARY_DIR}/gen-cpp")
  set(sources "")
  set(headers "")
  foreach(name IN LISTS ARG_OUTPUTS)
    list(APPEND sources "${out_dir}/${name}.cpp")
    list(APPEND headers "${out_dir}/${name}.h")
  endforeach()
  add_custom_command(
    OUTPUT ${sources} ${headers}
    COMMAND ${CMAKE_COMMAND} -E make_directory "${out_dir}"
    COMMAND ${THRIFT_COMPILER} --gen cpp:no_skeleton,moveable_types
            -I "${PROJECT_SOURCE_DIR}/idl" -out "${out_dir}" "${ARG_IDL}"
    DEPENDS "${ARG_IDL}" ${ARG_DEPENDS}
    COMMENT "Generating C++ from ${ARG_IDL}"
    VERBATIM)
  add_library(${target} STATIC ${sources})
  # Generated code is not ours to fix: no -Werror, no warnings.
  target_compile_options(${target} PRIVATE -w)
  target_include_directories(${target} SYSTEM PUBLIC "${out_dir}")
  target_link_libraries(${target} PUBLIC PkgConfig::THRIFT Boost::headers)
endfunction()
