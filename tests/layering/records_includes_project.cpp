// A backward include: record files are below the project. This file must not compile.
#include "project/Catalog.hpp"
