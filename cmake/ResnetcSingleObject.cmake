# resnetc_single_object_library(<name> <parts>)
#
# Defines the static library <name> whose only member is one relocatable
# object: every member of the static library target <parts>, partially linked
# (`ld -r`) by the toolchain's linker (CMAKE_LINKER, the cross linker in a
# cross build). `resnetc compile` makes every symbol local in the objects of
# lib<model>.a except the library's API (compiler/lib/CodeGen/LibrarySymbols.cpp);
# the runtime's files call each other through C++ symbols that it hides, so
# they must be one object first.
function(resnetc_single_object_library name parts)
  if(NOT CMAKE_LINKER)
    message(FATAL_ERROR "resnetc: no linker (CMAKE_LINKER) to make ${name} one object")
  endif()
  set(object ${CMAKE_CURRENT_BINARY_DIR}/${name}.o)
  add_custom_command(
    OUTPUT ${object}
    COMMAND ${CMAKE_LINKER} -r --whole-archive $<TARGET_FILE:${parts}> -o ${object}
    DEPENDS ${parts}
    COMMENT "Linking ${parts} into one object"
    VERBATIM)
  set_source_files_properties(${object} PROPERTIES EXTERNAL_OBJECT ON GENERATED ON)
  add_library(${name} STATIC ${object})
  set_target_properties(${name} PROPERTIES LINKER_LANGUAGE CXX)
  # Programs that link <name> itself (tests) compile against <parts>' headers.
  target_include_directories(${name}
    INTERFACE $<TARGET_PROPERTY:${parts},INTERFACE_INCLUDE_DIRECTORIES>)
endfunction()
