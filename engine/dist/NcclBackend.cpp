#include "dist/NcclBackend.hpp"

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

namespace taxon::dist {

c10::intrusive_ptr<c10d::Backend> makeNcclBackend(const c10::intrusive_ptr<c10d::Store>& store,
                                                  int rank, int size, const c10::Device& device,
                                                  std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  auto backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
  // Binding the device tells barriers and collectives which GPU is this rank's. The communicator
  // itself is still created lazily, at the first collective (eagerConnectSingleDevice would
  // create it now; the first collective is the trainer's broadcast of the starting state, soon
  // enough).
  backend->setBoundDeviceId(device);
  return backend;
}

}  // namespace taxon::dist
