# Cross targets built with the host's resnetc: for each toolchain whose
# compiler is installed, an external project (test/cross/target) builds
# resnetc's runtime for that architecture into lib/<triple>/ (where `resnetc
# compile --target=...` looks for it, in the build and the install tree) and
# the programs of the cross tests. Without the compiler, cross targets are
# left out with a message; everything else builds as usual.
include(ExternalProject)

find_program(RESNETC_AARCH64_CXX aarch64-linux-gnu-g++)
if(NOT RESNETC_AARCH64_CXX)
  message(STATUS "resnetc: no aarch64-linux-gnu-g++: the arm-64-linux target is left out "
                 "(apt-get install g++-aarch64-linux-gnu)")
  set(RESNETC_HAVE_AARCH64 OFF)
  return()
endif()
set(RESNETC_HAVE_AARCH64 ON)

set(launcher "")
find_program(RESNETC_CCACHE ccache)
if(RESNETC_CCACHE)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${RESNETC_CCACHE})
endif()
ExternalProject_Add(resnetc-aarch64
  SOURCE_DIR ${PROJECT_SOURCE_DIR}/test/cross/target
  BINARY_DIR ${CMAKE_BINARY_DIR}/aarch64
  CMAKE_ARGS
    -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/toolchains/aarch64-linux-gnu.cmake
    -DRESNETC_SOURCE_DIR=${PROJECT_SOURCE_DIR}
    -DRESNETC_EXECUTABLE=$<TARGET_FILE:resnetc>
    -DRESNETC_HOST_LIB_DIR=${CMAKE_BINARY_DIR}/lib
    -DRESNETC_KERNEL_CACHE=${RESNETC_KERNEL_CACHE}
    ${launcher}
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  DEPENDS resnetc resnetc-kernelgen)
set(RESNETC_AARCH64_BINARY_DIR ${CMAKE_BINARY_DIR}/aarch64)
install(FILES ${CMAKE_BINARY_DIR}/lib/aarch64-linux-gnu/libResnetcModelRuntime.a
        DESTINATION lib/aarch64-linux-gnu OPTIONAL)
