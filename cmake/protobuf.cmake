# Compiles .proto files with protoc-c at build time into the build tree.
# Generated code is never committed.
find_program(PROTOC_C NAMES protoc-c protoc-gen-c REQUIRED)

function(dpf_protobuf_generate srcs_var hdrs_var)
  set(out_dir ${CMAKE_BINARY_DIR}/proto)
  file(MAKE_DIRECTORY ${out_dir})
  set(srcs)
  set(hdrs)
  foreach(proto ${ARGN})
    get_filename_component(name ${proto} NAME_WE)
    get_filename_component(dir ${proto} DIRECTORY)
    set(c ${out_dir}/${name}.pb-c.c)
    set(h ${out_dir}/${name}.pb-c.h)
    add_custom_command(
      OUTPUT ${c} ${h}
      COMMAND ${PROTOC_C} --c_out=${out_dir} -I${dir} ${proto}
      DEPENDS ${proto}
      COMMENT "protoc-c ${name}.proto")
    list(APPEND srcs ${c})
    list(APPEND hdrs ${h})
  endforeach()
  set(${srcs_var} ${srcs} PARENT_SCOPE)
  set(${hdrs_var} ${hdrs} PARENT_SCOPE)
endfunction()
