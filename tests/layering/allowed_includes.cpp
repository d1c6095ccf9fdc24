// Headers of eval/torch's own room and of rooms below it: these must compile (see CMakeLists.txt).
#include "checkpoint/TrainedModel.hpp"
#include "core/Error.hpp"
#include "data/Loader.hpp"
#include "data/torch/BatchTensors.hpp"
#include "eval/Metrics.hpp"
#include "eval/torch/Evaluator.hpp"
#include "records/RecordSet.hpp"
