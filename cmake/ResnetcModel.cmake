# resnetc_add_model(<name> SOURCE <model.rn> [BATCH <n>] [TARGET <halide-target>]
#                   [INPUT <CxHxW>] [NETWORK <name>] [SEED <n>] [WEIGHTS <file.rnw>])
#
# Compiles a model at build time and defines the library target <name>:
# linking it gives the include path of <name>.h and lib<name>.a with its
# system libraries. <name>.rnw is written next to them, in
# ${CMAKE_CURRENT_BINARY_DIR}/resnetc/<name>/ (also in <name>_RNW_FILE).
# <name> must be the network's name in the .rn file.
#
# Works in resnetc's own build (the resnetc targets) and after
# find_package(resnetc) (the imported resnetc::resnetc executable).

find_package(Threads REQUIRED)

function(resnetc_add_model name)
  cmake_parse_arguments(ARG "" "SOURCE;BATCH;TARGET;INPUT;NETWORK;SEED;WEIGHTS" "" ${ARGN})
  if(NOT ARG_SOURCE)
    message(FATAL_ERROR "resnetc_add_model(${name}): SOURCE is required")
  endif()
  get_filename_component(source "${ARG_SOURCE}" ABSOLUTE)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/resnetc/${name}")
  set(args compile "${source}" -o "${out}" --quiet)
  if(ARG_BATCH)
    list(APPEND args --batch ${ARG_BATCH})
  endif()
  if(ARG_TARGET)
    list(APPEND args --target ${ARG_TARGET})
  endif()
  if(ARG_INPUT)
    list(APPEND args --input ${ARG_INPUT})
  endif()
  if(ARG_NETWORK)
    list(APPEND args --network ${ARG_NETWORK})
  endif()
  if(ARG_SEED)
    list(APPEND args --seed ${ARG_SEED})
  endif()
  set(depends "${source}")
  if(ARG_WEIGHTS)
    get_filename_component(weights "${ARG_WEIGHTS}" ABSOLUTE)
    list(APPEND args --weights "${weights}")
    list(APPEND depends "${weights}")
  endif()
  if(DEFINED RESNETC_KERNEL_CACHE)
    list(APPEND args --cache-dir "${RESNETC_KERNEL_CACHE}")
  endif()

  if(TARGET resnetc)
    set(compiler $<TARGET_FILE:resnetc>)
    list(APPEND depends resnetc resnetc-kernelgen ResnetcModelRuntime)
  else()
    set(compiler resnetc::resnetc)
    list(APPEND depends resnetc::resnetc)
  endif()

  add_custom_command(
    OUTPUT "${out}/lib${name}.a" "${out}/${name}.h" "${out}/${name}.rnw"
    COMMAND ${compiler} ${args}
    DEPENDS ${depends}
    COMMENT "resnetc: compiling ${name} from ${ARG_SOURCE}"
    VERBATIM)
  add_custom_target(${name}_resnetc DEPENDS "${out}/lib${name}.a" "${out}/${name}.h")

  add_library(${name} INTERFACE)
  add_dependencies(${name} ${name}_resnetc)
  target_include_directories(${name} INTERFACE "${out}")
  target_link_libraries(${name} INTERFACE "${out}/lib${name}.a" Threads::Threads ${CMAKE_DL_LIBS})
  set(${name}_RNW_FILE "${out}/${name}.rnw" PARENT_SCOPE)
endfunction()
