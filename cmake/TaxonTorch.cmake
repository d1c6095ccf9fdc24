# Finds LibTorch inside the venv that packaging/setup-deps.sh creates (a pinned PyPI torch wheel,
# CUDA build). Override with -DTAXON_PYTHON=/path/to/python or Torch_DIR.

# Where packaging/setup-deps.sh keeps the venvs (also used by tests that need TensorFlow).
if(DEFINED ENV{TAXON_CACHE})
  set(TAXON_CACHE_DIR "$ENV{TAXON_CACHE}")
else()
  set(TAXON_CACHE_DIR "$ENV{HOME}/.cache/taxon")
endif()

if(NOT TAXON_PYTHON)
  if(DEFINED ENV{TAXON_VENV})
    set(_venv "$ENV{TAXON_VENV}")
  else()
    set(_venv "${TAXON_CACHE_DIR}/venv")
  endif()
  if(EXISTS "${_venv}/bin/python")
    set(_py "${_venv}/bin/python")
  else()
    find_program(_py NAMES python3 python)
  endif()
  set(TAXON_PYTHON "${_py}" CACHE FILEPATH "Python interpreter whose torch package provides LibTorch")
endif()

if(NOT Torch_DIR)
  execute_process(
    COMMAND "${TAXON_PYTHON}" -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(torch.__version__)"
    OUTPUT_VARIABLE _torch_out ERROR_VARIABLE _torch_err RESULT_VARIABLE _torch_rc
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _torch_rc EQUAL 0)
    message(FATAL_ERROR "Taxon: ${TAXON_PYTHON} cannot import torch.\n"
      "Run packaging/setup-deps.sh first (it creates ~/.cache/taxon/venv).\n${_torch_err}")
  endif()
  string(REPLACE "\n" ";" _torch_out "${_torch_out}")
  list(GET _torch_out 0 _torch_prefix)
  list(GET _torch_out 1 TAXON_TORCH_VERSION)
  list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
  message(STATUS "Taxon: torch ${TAXON_TORCH_VERSION} from ${TAXON_PYTHON}")
endif()

# Torch's CMake config looks for the CUDA toolkit through nvcc; the toolkit lives here.
if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
if(NOT CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
# Architectures torch's config compiles for when it sets flags; it changes nothing in LibTorch.
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0")
endif()

find_package(Torch REQUIRED)
message(STATUS "Taxon: LibTorch libraries ${TORCH_LIBRARIES}")

# taxon_torch: what our targets link to get LibTorch. The wheel's libtorch exports its own,
# older copies of std::filesystem; the first library in a binary's NEEDED list that defines a
# symbol wins, and libtorch's std::filesystem::remove_all crashes. Linking libstdc++ before
# anything else keeps the system's implementation (tests/engine/core/test_Runtime.cpp checks it).
add_library(taxon_torch INTERFACE)
target_link_libraries(taxon_torch INTERFACE ${TORCH_LIBRARIES})
target_link_options(taxon_torch INTERFACE
  "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
