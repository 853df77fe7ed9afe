# resnetc_add_model(<name> SOURCE <model.rn> [BATCH <n>] [TARGET <halide-target>]
#                   [INPUT <CxHxW>] [NETWORK <name>] [SEED <n>] [WEIGHTS <file.rnw>]
#                   [TRAIN [MOMENTUM <m>] [WEIGHT_DECAY <d>]])
#
# Compiles a model at build time and defines the library target <name>:
# linking it gives the include path of <network>.h and lib<network>.a with
# its system libraries. <network>.rnw is written next to them, in
# ${CMAKE_CURRENT_BINARY_DIR}/resnetc/<name>/ (also in <name>_RNW_FILE).
# <network> is NETWORK if given, else <name>: the network's name in the .rn
# file (and the prefix of every symbol of the library).
#
# Works in resnetc's own build (the resnetc targets) and after
# find_package(resnetc) (the imported resnetc::resnetc executable). In a
# project cross-compiled for AArch64 (cmake/toolchains/aarch64-linux-gnu.cmake)
# TARGET defaults to arm-64-linux. RESNETC_MODEL_RUNTIME, when set, names the
# runtime archive (a library target or a path) that goes into the library.

find_package(Threads REQUIRED)

function(resnetc_add_model name)
  cmake_parse_arguments(ARG "TRAIN" "SOURCE;BATCH;TARGET;INPUT;NETWORK;SEED;WEIGHTS;MOMENTUM;WEIGHT_DECAY"
                        "" ${ARGN})
  if(NOT ARG_SOURCE)
    message(FATAL_ERROR "resnetc_add_model(${name}): SOURCE is required")
  endif()
  get_filename_component(source "${ARG_SOURCE}" ABSOLUTE)
  set(network ${name})
  if(ARG_NETWORK)
    set(network ${ARG_NETWORK})
  endif()
  if(NOT ARG_TARGET AND CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(ARG_TARGET arm-64-linux)
  endif()
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
  if(ARG_TRAIN)
    list(APPEND args --train)
  endif()
  if(ARG_MOMENTUM)
    list(APPEND args --momentum ${ARG_MOMENTUM})
  endif()
  if(ARG_WEIGHT_DECAY)
    list(APPEND args --weight-decay ${ARG_WEIGHT_DECAY})
  endif()
  set(depends "${source}")
  if(ARG_WEIGHTS)
    get_filename_component(weights "${ARG_WEIGHTS}" ABSOLUTE)
    list(APPEND args --weights "${weights}")
    list(APPEND depends "${weights}")
  endif()
  if(RESNETC_KERNEL_CACHE)
    list(APPEND args --cache-dir "${RESNETC_KERNEL_CACHE}")
  endif()

  if(DEFINED RESNETC_MODEL_RUNTIME)
    if(TARGET ${RESNETC_MODEL_RUNTIME})
      list(APPEND args --runtime-lib $<TARGET_FILE:${RESNETC_MODEL_RUNTIME}>)
    else()
      list(APPEND args --runtime-lib ${RESNETC_MODEL_RUNTIME})
    endif()
    list(APPEND depends ${RESNETC_MODEL_RUNTIME})
  endif()
  if(TARGET resnetc)
    set(compiler $<TARGET_FILE:resnetc>)
    list(APPEND depends resnetc resnetc-kernelgen ResnetcModelRuntime)
  else()
    set(compiler resnetc::resnetc)
    list(APPEND depends resnetc::resnetc)
  endif()

  add_custom_command(
    OUTPUT "${out}/lib${network}.a" "${out}/${network}.h" "${out}/${network}.rnw"
    COMMAND ${compiler} ${args}
    DEPENDS ${depends}
    COMMENT "resnetc: compiling ${name} from ${ARG_SOURCE}"
    VERBATIM)
  add_custom_target(${name}_resnetc DEPENDS "${out}/lib${network}.a" "${out}/${network}.h")

  add_library(${name} INTERFACE)
  add_dependencies(${name} ${name}_resnetc)
  target_include_directories(${name} INTERFACE "${out}")
  target_link_libraries(${name} INTERFACE "${out}/lib${network}.a" Threads::Threads ${CMAKE_DL_LIBS})
  set(${name}_RNW_FILE "${out}/${network}.rnw" PARENT_SCOPE)
endfunction()
