// Precompiled header of taxon_engine (see engine/CMakeLists.txt). Never include it directly.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>
