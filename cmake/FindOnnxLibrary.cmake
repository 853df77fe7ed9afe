# Finds ONNX's own C++ library as Debian packages it (libonnx-dev) and the
# protobuf runtime it was built against (libprotobuf-dev), and defines the
# imported target Resnetc::Onnx for resnetc's ONNX import and export.
#
# Debian's libonnx holds the generated protobuf classes of the ONNX-ML
# variant of the schema (onnx/onnx-ml.pb.h) in namespace `onnx`; its CMake
# config puts ONNX_NAMESPACE=onnx and ONNX_ML=1 on its targets, and code
# compiled without them would declare other classes than the library defines.
# This module checks that and fails early if the variant ever changes.

find_package(Protobuf QUIET)
if(Protobuf_FOUND AND NOT TARGET protobuf::libprotobuf)
  add_library(protobuf::libprotobuf UNKNOWN IMPORTED)
  set_target_properties(protobuf::libprotobuf PROPERTIES
    IMPORTED_LOCATION "${Protobuf_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Protobuf_INCLUDE_DIR}")
endif()
if(Protobuf_FOUND)
  find_package(ONNX CONFIG QUIET)
endif()

set(OnnxLibrary_VARIANT_OK FALSE)
if(TARGET onnx_proto)
  get_target_property(_onnx_definitions onnx_proto INTERFACE_COMPILE_DEFINITIONS)
  get_target_property(_onnx_includes onnx_proto INTERFACE_INCLUDE_DIRECTORIES)
  find_file(OnnxLibrary_ML_HEADER onnx/onnx-ml.pb.h PATHS ${_onnx_includes} NO_DEFAULT_PATH)
  if("ONNX_NAMESPACE=onnx" IN_LIST _onnx_definitions AND "ONNX_ML=1" IN_LIST _onnx_definitions
     AND OnnxLibrary_ML_HEADER)
    set(OnnxLibrary_VARIANT_OK TRUE)
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OnnxLibrary
  REQUIRED_VARS Protobuf_LIBRARY ONNX_DIR OnnxLibrary_VARIANT_OK
  VERSION_VAR ONNX_VERSION
  REASON_FAILURE_MESSAGE
    "install libonnx-dev and libprotobuf-dev (scripts/setup.sh), which provide the ONNX-ML classes in namespace onnx")

if(OnnxLibrary_FOUND AND NOT TARGET Resnetc::Onnx)
  add_library(Resnetc::Onnx INTERFACE IMPORTED GLOBAL)
  target_link_libraries(Resnetc::Onnx INTERFACE onnx onnx_proto protobuf::libprotobuf)
endif()
