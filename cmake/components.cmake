# The DP component files and their signature, made at build time.
#
# include()d from services/dpagent/CMakeLists.txt, it defines the target
# `dp_components` (built by default) that fills
#
#   ${CMAKE_BINARY_DIR}/share/dp-components/
#       <the files of share/dp-components/>   copies
#       MANIFEST        "<sha256 hex>  <name>" per file, sorted by name
#       MANIFEST.sig    Ed25519 signature of MANIFEST (openssl pkeyutl -sign -rawin)
#       signing.pub     the public key (PEM) dpagent trusts by default
#
# The private key is generated once (openssl genpkey -algorithm ed25519) into
# ${CMAKE_BINARY_DIR}/share/dp-signing/signing.key, outside the component
# directory, so whoever ships that directory to a DP never ships the key.
# distmgr reads DPF_DP_COMPONENTS_DIR and sends its files in install_files.
#
# The same file runs as a script (cmake -P) for the build step itself, with
# DPF_SIGN_SRC, DPF_SIGN_OUT, DPF_SIGN_KEY and DPF_SIGN_OPENSSL set.

if(DEFINED DPF_SIGN_OUT)
  # ---- script mode: copy, hash, sign ----
  cmake_minimum_required(VERSION 3.18) # cmake -P starts with no policies (IN_LIST)
  if(NOT EXISTS "${DPF_SIGN_KEY}")
    get_filename_component(key_dir "${DPF_SIGN_KEY}" DIRECTORY)
    file(MAKE_DIRECTORY "${key_dir}")
    execute_process(COMMAND "${DPF_SIGN_OPENSSL}" genpkey -algorithm ed25519 -out "${DPF_SIGN_KEY}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "openssl genpkey failed (${rc})")
    endif()
    file(CHMOD "${DPF_SIGN_KEY}" PERMISSIONS OWNER_READ OWNER_WRITE)
  endif()
  file(MAKE_DIRECTORY "${DPF_SIGN_OUT}")
  execute_process(COMMAND "${DPF_SIGN_OPENSSL}" pkey -in "${DPF_SIGN_KEY}" -pubout
                          -out "${DPF_SIGN_OUT}/signing.pub" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "openssl pkey -pubout failed (${rc})")
  endif()

  file(GLOB sources RELATIVE "${DPF_SIGN_SRC}" "${DPF_SIGN_SRC}/*")
  list(SORT sources)
  set(manifest "")
  foreach(name ${sources})
    if(IS_DIRECTORY "${DPF_SIGN_SRC}/${name}" OR name MATCHES "^\\."
       OR name MATCHES "^(MANIFEST|MANIFEST\\.sig|signing\\.pub)$")
      continue()
    endif()
    file(COPY "${DPF_SIGN_SRC}/${name}" DESTINATION "${DPF_SIGN_OUT}")
    file(SHA256 "${DPF_SIGN_SRC}/${name}" hash)
    string(APPEND manifest "${hash}  ${name}\n")
    list(APPEND shipped ${name})
  endforeach()

  # a component removed from the source tree must not linger in the set
  file(GLOB present RELATIVE "${DPF_SIGN_OUT}" "${DPF_SIGN_OUT}/*")
  foreach(name ${present})
    if(NOT name IN_LIST shipped AND NOT name MATCHES "^(MANIFEST|MANIFEST\\.sig|signing\\.pub)$")
      file(REMOVE "${DPF_SIGN_OUT}/${name}")
    endif()
  endforeach()

  file(WRITE "${DPF_SIGN_OUT}/MANIFEST" "${manifest}")
  execute_process(COMMAND "${DPF_SIGN_OPENSSL}" pkeyutl -sign -rawin -inkey "${DPF_SIGN_KEY}"
                          -in "${DPF_SIGN_OUT}/MANIFEST" -out "${DPF_SIGN_OUT}/MANIFEST.sig"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "openssl pkeyutl -sign failed (${rc})")
  endif()
  return()
endif()

# ---- include mode: the build target ----
find_program(DPF_OPENSSL openssl REQUIRED)

set(DPF_DP_COMPONENTS_SRC ${CMAKE_SOURCE_DIR}/share/dp-components)
set(DPF_DP_COMPONENTS_DIR ${CMAKE_BINARY_DIR}/share/dp-components)
set(DPF_DP_SIGNING_KEY ${CMAKE_BINARY_DIR}/share/dp-signing/signing.key)

file(GLOB DPF_DP_COMPONENT_FILES CONFIGURE_DEPENDS ${DPF_DP_COMPONENTS_SRC}/*)

add_custom_command(
  OUTPUT ${DPF_DP_COMPONENTS_DIR}/MANIFEST ${DPF_DP_COMPONENTS_DIR}/MANIFEST.sig
         ${DPF_DP_COMPONENTS_DIR}/signing.pub
  COMMAND ${CMAKE_COMMAND} -DDPF_SIGN_SRC=${DPF_DP_COMPONENTS_SRC}
          -DDPF_SIGN_OUT=${DPF_DP_COMPONENTS_DIR} -DDPF_SIGN_KEY=${DPF_DP_SIGNING_KEY}
          -DDPF_SIGN_OPENSSL=${DPF_OPENSSL} -P ${CMAKE_CURRENT_LIST_FILE}
  DEPENDS ${DPF_DP_COMPONENT_FILES} ${CMAKE_CURRENT_LIST_FILE}
  COMMENT "Signing the DP component files (MANIFEST, MANIFEST.sig)"
  VERBATIM)
add_custom_target(dp_components ALL
  DEPENDS ${DPF_DP_COMPONENTS_DIR}/MANIFEST ${DPF_DP_COMPONENTS_DIR}/MANIFEST.sig
          ${DPF_DP_COMPONENTS_DIR}/signing.pub)
