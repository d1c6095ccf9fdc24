# taxon_room(): one static library per engine folder ("room"), whose dependencies are declared in
# that folder's CMakeLists.txt and run one way only (see the README's "Where a change goes").
#
#   taxon_room(<folder> [TORCH] SOURCES <files...> [DEPENDS <targets...>] [PRIVATE <targets...>])
#
# makes taxon_<folder> ("core/torch" gives taxon_core_torch). Headers are included as
# "<folder>/Header.hpp" through an include root that holds that folder alone (a link in the build
# tree), so a file sees exactly the rooms its target depends on: including a header of a room
# that is not a dependency (a backward include, eval including train) fails to compile.
# Only TORCH rooms get LibTorch's headers, through the precompiled header of taxon_core_torch.
function(taxon_room folder)
  cmake_parse_arguments(ROOM "TORCH" "" "SOURCES;DEPENDS;PRIVATE" ${ARGN})
  string(REPLACE "/" "_" name "${folder}")
  set(target "taxon_${name}")
  set(root "${PROJECT_BINARY_DIR}/rooms/${name}")
  get_filename_component(parent "${root}/${folder}" DIRECTORY)
  file(MAKE_DIRECTORY "${parent}")
  if(NOT IS_SYMLINK "${root}/${folder}")
    file(CREATE_LINK "${PROJECT_SOURCE_DIR}/engine/${folder}" "${root}/${folder}" SYMBOLIC)
  endif()
  add_library(${target} STATIC ${ROOM_SOURCES})
  taxon_unity_build(${target})
  target_include_directories(${target} PUBLIC "${root}")
  target_link_libraries(${target} PUBLIC ${ROOM_DEPENDS} PRIVATE taxon_warnings ${ROOM_PRIVATE})
  if(ROOM_TORCH AND NOT target STREQUAL "taxon_core_torch")
    target_link_libraries(${target} PUBLIC taxon_core_torch)
    target_precompile_headers(${target} REUSE_FROM taxon_core_torch)
  endif()
endfunction()
