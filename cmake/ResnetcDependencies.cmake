# Finds MLIR/LLVM 22 and FlatBuffers. MLIR must be found before anything that
# brings in another LLVM (Halide 14 ships LLVM 14), and the LLVM 22 paths are
# saved right away because later find_package calls overwrite LLVM_* variables.

find_package(MLIR 22.1 REQUIRED CONFIG
  PATHS /usr/lib/llvm-22/lib/cmake/mlir NO_DEFAULT_PATH)
message(STATUS "MLIR ${MLIR_PACKAGE_VERSION} from ${MLIR_DIR}, LLVM ${LLVM_PACKAGE_VERSION}")

set(RESNETC_LLVM_INCLUDE_DIRS ${LLVM_INCLUDE_DIRS})
set(RESNETC_MLIR_INCLUDE_DIRS ${MLIR_INCLUDE_DIRS})
set(RESNETC_LLVM_TOOLS_DIR ${LLVM_TOOLS_BINARY_DIR})
set(RESNETC_LLVM_DEFINITIONS ${LLVM_DEFINITIONS})

list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
include(TableGen)
include(AddLLVM)
include(AddMLIR)

separate_arguments(RESNETC_LLVM_DEFINITIONS_LIST NATIVE_COMMAND ${RESNETC_LLVM_DEFINITIONS})
add_definitions(${RESNETC_LLVM_DEFINITIONS_LIST})
include_directories(SYSTEM ${RESNETC_LLVM_INCLUDE_DIRS} ${RESNETC_MLIR_INCLUDE_DIRS})

# LLVM is built without RTTI; our code that derives from LLVM classes must match.
if(NOT LLVM_ENABLE_RTTI)
  set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} -fno-rtti")
endif()

find_package(FlatBuffers REQUIRED CONFIG)
find_program(FLATC_EXECUTABLE flatc REQUIRED)
find_package(GTest REQUIRED)
# ONNX import and export (compiler/lib/Interchange): Debian's libonnx and protobuf.
find_package(OnnxLibrary REQUIRED)

# add_mlir_doc writes under ${MLIR_BINARY_DIR}/docs: keep it in our build tree.
set(MLIR_BINARY_DIR ${PROJECT_BINARY_DIR})

# Halide 14 (for the kernel generator, targets/). It brings LLVM 14's CMake
# config and overwrites the LLVM_* variables, so it must come after MLIR and
# after the LLVM 22 paths were saved above.
find_package(Halide 14 REQUIRED CONFIG)
