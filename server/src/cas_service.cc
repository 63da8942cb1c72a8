// The ContentAddressableStorage service: blobs by digest, in batches, and
// whole Directory trees.
#include <deque>
#include <unordered_set>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/parallel.h"
#include "cairn/status_details.h"
#include "grpc_status.h"
#include "request_checks.h"
#include "request_scope.h"
#include "services.h"
#include "zstd_codec.h"

namespace cairn::server {
namespace {

namespace reapi = build::bazel::remote::execution::v2;

// Directories per GetTree response when the client does not ask for fewer,
// and the bytes one response may hold.
constexpr int kDefaultTreePage = 1000;
// Threads storing the blobs of one BatchUpdateBlobs request.
constexpr int kStoreThreads = 4;

class CasService final : public reapi::ContentAddressableStorage::Service {
 public:
  explicit CasService(ServerState& state) : state_(state) {}

  grpc::Status FindMissingBlobs(grpc::ServerContext* context,
                                const reapi::FindMissingBlobsRequest* request,
                                reapi::FindMissingBlobsResponse* response) override {
    RequestScope scope(state_, context, "FindMissingBlobs");
    return scope.Finish(FindMissing(scope, *request, response));
  }

  grpc::Status BatchUpdateBlobs(grpc::ServerContext* context,
                                const reapi::BatchUpdateBlobsRequest* request,
                                reapi::BatchUpdateBlobsResponse* response) override {
    RequestScope scope(state_, context, "BatchUpdateBlobs");
    return scope.Finish(BatchUpdate(scope, *request, response));
  }

  grpc::Status BatchReadBlobs(grpc::ServerContext* context,
                              const reapi::BatchReadBlobsRequest* request,
                              reapi::BatchReadBlobsResponse* response) override {
    RequestScope scope(state_, context, "BatchReadBlobs");
    return scope.Finish(BatchRead(scope, *request, response));
  }

  grpc::Status GetTree(grpc::ServerContext* context, const reapi::GetTreeRequest* request,
                       grpc::ServerWriter<reapi::GetTreeResponse>* writer) override {
    RequestScope scope(state_, context, "GetTree");
    return scope.Finish(Tree(scope, *request, writer));
  }

 private:
  Status FindMissing(RequestScope& scope, const reapi::FindMissingBlobsRequest& request,
                     reapi::FindMissingBlobsResponse* response) {
    CAIRN_RETURN_IF_ERROR(scope.Enter(request.instance_name(), Permission::kRead));
    CAIRN_RETURN_IF_ERROR(CheckDigestFunction(request.digest_function(), "digest_function"));
    std::vector<Digest> digests(request.blob_digests().begin(), request.blob_digests().end());
    for (size_t i = 0; i < digests.size(); ++i) {
      CAIRN_RETURN_IF_ERROR(CheckDigest(digests[i], Indexed("blob_digests", i)));
    }
    CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> missing, state_.storage().FindMissing(digests));
    for (Digest& digest : missing) *response->add_missing_blob_digests() = std::move(digest);
    return Status::Ok();
  }

  Status BatchUpdate(RequestScope& scope, const reapi::BatchUpdateBlobsRequest& request,
                     reapi::BatchUpdateBlobsResponse* response) {
    CAIRN_RETURN_IF_ERROR(scope.Enter(request.instance_name(), Permission::kWrite));
    CAIRN_RETURN_IF_ERROR(CheckDigestFunction(request.digest_function(), "digest_function"));
    uint64_t total = 0;
    for (int i = 0; i < request.requests_size(); ++i) {
      const auto& blob = request.requests(i);
      std::string field = Indexed("requests", i);
      CAIRN_RETURN_IF_ERROR(CheckDigest(blob.digest(), field + ".digest", state_.max_blob_size()));
      if (blob.compressor() != reapi::Compressor::IDENTITY &&
          blob.compressor() != reapi::Compressor::ZSTD) {
        return BadRequestError(field + ".compressor",
                               "compressor " + reapi::Compressor::Value_Name(blob.compressor()) +
                                   " is not supported (identity and zstd are)");
      }
      total += static_cast<uint64_t>(blob.digest().size_bytes());
    }
    if (total > state_.limits().max_batch_size) {
      return BadRequestError("requests", "the blobs total " + std::to_string(total) +
                                             " bytes, more than max_batch_total_size_bytes (" +
                                             std::to_string(state_.limits().max_batch_size) +
                                             "); send the large ones with ByteStream");
    }
    for (int i = 0; i < request.requests_size(); ++i) {
      const auto& blob = request.requests(i);
      *response->add_responses()->mutable_digest() = blob.digest();
      scope.AddBytesIn(blob.data().size());
    }
    // A batch of many small blobs is mostly hashing and file creation:
    // spread over a few threads, each blob's answer in its own slot.
    return ParallelFor(
        static_cast<size_t>(request.requests_size()), kStoreThreads, [&](size_t i) -> Status {
          int index = static_cast<int>(i);
          Status stored = Store(request.requests(index), Indexed("requests", index));
          *response->mutable_responses(index)->mutable_status() = ToRpcStatus(stored);
          return Status::Ok();
        });
  }

  Status Store(const reapi::BatchUpdateBlobsRequest::Request& blob, const std::string& field) {
    std::string decompressed;
    std::string_view data = blob.data();
    if (blob.compressor() == reapi::Compressor::ZSTD) {
      StatusOr<std::string> plain =
          ZstdDecompress(blob.data(), static_cast<uint64_t>(blob.digest().size_bytes()));
      if (!plain.ok()) return plain.status().WithContext(field + ".data");
      decompressed = std::move(plain).value();
      data = decompressed;
    }
    if (data.size() != static_cast<uint64_t>(blob.digest().size_bytes())) {
      return BadRequestError(field + ".data", "holds " + std::to_string(data.size()) +
                                                  " bytes but the digest says " +
                                                  std::to_string(blob.digest().size_bytes()));
    }
    Digest actual = DigestOfBytes(data);
    if (actual.hash() != blob.digest().hash()) {
      return BadRequestError(field + ".data", "hashes to " + actual.hash() + ", not the digest's " +
                                                  blob.digest().hash());
    }
    return state_.storage().WriteBlob(data, blob.digest()).status();
  }

  Status BatchRead(RequestScope& scope, const reapi::BatchReadBlobsRequest& request,
                   reapi::BatchReadBlobsResponse* response) {
    CAIRN_RETURN_IF_ERROR(scope.Enter(request.instance_name(), Permission::kRead));
    CAIRN_RETURN_IF_ERROR(CheckDigestFunction(request.digest_function(), "digest_function"));
    uint64_t total = 0;
    for (int i = 0; i < request.digests_size(); ++i) {
      CAIRN_RETURN_IF_ERROR(CheckDigest(request.digests(i), Indexed("digests", i)));
      total += static_cast<uint64_t>(request.digests(i).size_bytes());
    }
    if (total > state_.limits().max_batch_size) {
      return BadRequestError("digests", "the blobs total " + std::to_string(total) +
                                            " bytes, more than max_batch_total_size_bytes (" +
                                            std::to_string(state_.limits().max_batch_size) +
                                            "); read the large ones with ByteStream");
    }
    bool zstd = false;
    for (int compressor : request.acceptable_compressors()) {
      zstd = zstd || compressor == reapi::Compressor::ZSTD;
    }
    for (const Digest& digest : request.digests()) {
      auto* answer = response->add_responses();
      *answer->mutable_digest() = digest;
      StatusOr<std::string> data = state_.storage().ReadBlob(digest);
      if (!data.ok()) {
        *answer->mutable_status() = ToRpcStatus(data.status());
        continue;
      }
      if (zstd && data->size() > 64) {
        answer->set_data(ZstdCompress(*data));
        answer->set_compressor(reapi::Compressor::ZSTD);
      } else {
        answer->set_data(std::move(data).value());
      }
      scope.AddBytesOut(answer->data().size());
      answer->mutable_status()->set_code(0);
    }
    return Status::Ok();
  }

  // Breadth-first from the root, each distinct Directory once. The page
  // token is the number of directories already sent, so a client resumes
  // where it stopped; what is missing from the CAS is left out, as REAPI
  // says.
  Status Tree(RequestScope& scope, const reapi::GetTreeRequest& request,
              grpc::ServerWriter<reapi::GetTreeResponse>* writer) {
    CAIRN_RETURN_IF_ERROR(scope.Enter(request.instance_name(), Permission::kRead));
    CAIRN_RETURN_IF_ERROR(CheckDigestFunction(request.digest_function(), "digest_function"));
    CAIRN_RETURN_IF_ERROR(CheckDigest(request.root_digest(), "root_digest"));
    if (request.page_size() < 0) return BadRequestError("page_size", "must not be negative");
    uint64_t skip = 0;
    if (!request.page_token().empty()) {
      char* end = nullptr;
      skip = std::strtoull(request.page_token().c_str(), &end, 10);
      if (*end != '\0' || request.page_token()[0] == '-') {
        return BadRequestError("page_token", "'" + request.page_token().substr(0, 40) +
                                                 "' is not a token this server gave");
      }
    }
    int page_size = request.page_size() > 0 ? std::min(request.page_size(), kDefaultTreePage)
                                            : kDefaultTreePage;
    uint64_t page_bytes = state_.limits().max_batch_size;
    std::deque<Digest> queue{request.root_digest()};
    std::unordered_set<std::string> seen{request.root_digest().hash()};
    uint64_t index = 0;
    reapi::GetTreeResponse page;
    uint64_t bytes = 0;
    bool found_root = false;
    while (!queue.empty()) {
      Digest digest = std::move(queue.front());
      queue.pop_front();
      StatusOr<std::string> blob = state_.storage().ReadBlob(digest);
      if (!blob.ok()) {
        if (blob.status().code() == Code::kNotFound) continue;
        return blob.status();
      }
      reapi::Directory directory;
      if (!directory.ParseFromString(*blob)) {
        return BadRequestError("root_digest", "blob " + DigestToString(digest) +
                                                  " in the tree is not a Directory message");
      }
      if (index == 0) found_root = true;
      for (const auto& child : directory.directories()) {
        if (seen.insert(child.digest().hash()).second) queue.push_back(child.digest());
      }
      if (index++ < skip) continue;
      if (page.directories_size() >= page_size || bytes + blob->size() > page_bytes) {
        page.set_next_page_token(std::to_string(index - 1));
        scope.AddBytesOut(bytes);
        if (!writer->Write(page)) return Cancelled("the client went away");
        page.Clear();
        bytes = 0;
      }
      bytes += blob->size();
      *page.add_directories() = std::move(directory);
    }
    if (!found_root && skip == 0) {
      return NotFound("root directory " + DigestToString(request.root_digest()) +
                      " is not in the CAS");
    }
    scope.AddBytesOut(bytes);
    writer->Write(page);
    return Status::Ok();
  }

  ServerState& state_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeCasService(ServerState& state) {
  return std::make_unique<CasService>(state);
}

}  // namespace cairn::server
