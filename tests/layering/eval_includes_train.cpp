// A backward include: evaluation is below training. This file must not compile.
#include "train/Trainer.hpp"
