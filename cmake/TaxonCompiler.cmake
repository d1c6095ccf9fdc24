# Compiler setup shared by every Taxon target: ccache, warnings, sanitizers.

find_program(TAXON_CCACHE ccache)
if(TAXON_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${TAXON_CCACHE}")
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${TAXON_CCACHE}")
  message(STATUS "Taxon: compiling through ${TAXON_CCACHE}")
endif()

# taxon_warnings: link it to every target of ours (not to third-party code).
add_library(taxon_warnings INTERFACE)
target_compile_options(taxon_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wshadow=local>
  $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Wno-unused-parameter>)
# GCC 12 at -O3 reports impossible sizes inside std::string's inlined copies (GCC bugs 105329
# and 105651); the false positives would otherwise fail -Werror on ordinary string concatenation.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(taxon_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict -Wno-stringop-overflow -Wno-array-bounds>)
endif()
if(TAXON_WERROR)
  target_compile_options(taxon_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Werror>
    $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings>)
endif()

if(TAXON_SANITIZE)
  set(_taxon_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  # vptr checks need RTTI of every class that crosses into LibTorch; the wheel's objects are not
  # instrumented, so the check reports false positives there.
  list(APPEND _taxon_san -fno-sanitize=vptr)
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${_taxon_san}>")
  # GCC's -Wmaybe-uninitialized gives false positives under the sanitizers (its manual says
  # so); here inside <regex> and torch's std::optional<Generator>. The normal build keeps it.
  target_compile_options(taxon_warnings INTERFACE
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-maybe-uninitialized>)
  add_link_options(${_taxon_san})
endif()

# Fuzzing (tests/fuzz): every object gets libFuzzer's coverage counters; only the fuzz targets link
# its main. FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (the define libFuzzer's users share) lets the
# checksums of records and checkpoints pass, so the fuzzer reaches the parsing behind them.
if(TAXON_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TAXON_FUZZ needs clang (cmake --preset fuzz sets it)")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>")
  add_compile_definitions(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
endif()
