# Cross-compiling for 64-bit ARM Linux (Raspberry Pi 4/5 with a 64-bit OS,
# Jetson, Graviton, ...) with Debian's g++-aarch64-linux-gnu:
#
#   cmake -S app -B build-arm -DCMAKE_TOOLCHAIN_FILE=<resnetc>/cmake/toolchains/aarch64-linux-gnu.cmake
#
# resnetc_add_model() then compiles models for arm-64-linux unless TARGET says
# otherwise. Programs run on the board, or here under qemu-aarch64-static.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(RESNETC_CROSS_PREFIX aarch64-linux-gnu- CACHE STRING "Prefix of the cross tools")
set(CMAKE_C_COMPILER ${RESNETC_CROSS_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${RESNETC_CROSS_PREFIX}g++)
set(CMAKE_AR ${RESNETC_CROSS_PREFIX}ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${RESNETC_CROSS_PREFIX}ranlib CACHE FILEPATH "")

# Libraries and headers of the target only; programs (resnetc, flatc) of the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH) # find_package(resnetc): the host tools

# Run target programs (try_run, tests) under user-mode emulation when present.
find_program(RESNETC_QEMU_AARCH64 qemu-aarch64-static qemu-aarch64)
if(RESNETC_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${RESNETC_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
endif()

# Where resnetc keeps its runtime for this target: lib/<this>/.
set(RESNETC_TARGET_LIB_SUBDIR aarch64-linux-gnu)
