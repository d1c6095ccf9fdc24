// Building a network draws from the CPU's default random generator: LibTorch's modules initialize
// their weights in their constructors, even when a checkpoint replaces them at once. Every
// InceptionV3 is built under this lock; a seeded build (a training run's initial weights, see
// train/ReplicaSync) holds it around seeding and building, so that no build on another thread (a
// replica's teacher, the app's classifier or size line) draws from the generator in between and
// changes the run's weights. Recursive: the seeded build holds it while the constructor takes it.
#pragma once

#include <mutex>

namespace taxon::model {

std::recursive_mutex& weightInitMutex();

}  // namespace taxon::model
