// PLACEHOLDER until the ByteStream service is written: every call is UNIMPLEMENTED.
#include "google/bytestream/bytestream.grpc.pb.h"
#include "services.h"

namespace cairn::server {

std::unique_ptr<grpc::Service> MakeByteStreamService(ServerState& /*state*/) {
  return std::make_unique<google::bytestream::ByteStream::Service>();
}

}  // namespace cairn::server
