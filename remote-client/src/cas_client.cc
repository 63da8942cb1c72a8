#include "cairn/remote_client/cas_client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "cairn/merkle.h"
#include "cairn/parallel.h"
#include "cairn/remote_client/grpc_status.h"
#include "cairn/resource_name.h"

namespace cairn::remote_client {

namespace reapi = build::bazel::remote::execution::v2;
namespace bytestream = google::bytestream;

namespace {

using Deadline = std::chrono::system_clock::time_point;

// Threads writing the blobs of one downloaded batch into the local store.
constexpr int kWriteThreads = 4;

// Per-entry framing of a batch (digest, status) on top of the data itself,
// so a batch of many tiny blobs still fits the gRPC message limit.
constexpr int64_t kEntryOverhead = 256;

std::vector<Digest> Distinct(const std::vector<Digest>& digests) {
  std::set<Digest> seen;
  std::vector<Digest> distinct;
  for (const Digest& digest : digests) {
    if (seen.insert(digest).second) distinct.push_back(digest);
  }
  return distinct;
}

// A temporary file removed when it goes out of scope (unless handed on).
class TempFile {
 public:
  TempFile() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "cairn-download-XXXXXX").string();
    fd_ = mkstemp(pattern.data());
    if (fd_ >= 0) path_ = pattern;
  }
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t written = write(fd, data.data() + done, data.size() - done);
    if (written < 0) {
      if (errno == EINTR) continue;
      return Internal("writing " + path + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(written);
  }
  return Status::Ok();
}

}  // namespace

int64_t RemoteCapabilities::BatchBytes() const {
  if (max_batch_total_size_bytes <= 0) return kDefaultBatchBytes;
  // A batch must also fit the channel's message limit, whatever the
  // server would accept.
  return std::min<int64_t>(max_batch_total_size_bytes, kMaxMessageBytes - (1 << 20));
}

CasClient::CasClient(const std::shared_ptr<RemoteConnection>& connection)
    : CasClient(connection, reapi::Capabilities::NewStub(connection->channel()),
                reapi::ContentAddressableStorage::NewStub(connection->channel()),
                bytestream::ByteStream::NewStub(connection->channel())) {}

CasClient::CasClient(std::shared_ptr<RemoteConnection> connection,
                     std::unique_ptr<CapabilitiesStub> capabilities, std::unique_ptr<Stubs> cas,
                     std::unique_ptr<ByteStreamStub> bytestream)
    : connection_(std::move(connection)),
      capabilities_stub_(std::move(capabilities)),
      cas_(std::move(cas)),
      bytestream_(std::move(bytestream)) {}

StatusOr<RemoteCapabilities> CasClient::Capabilities() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (capabilities_.has_value()) return *capabilities_;
  }
  reapi::GetCapabilitiesRequest request;
  request.set_instance_name(connection_->options().instance_name);
  reapi::ServerCapabilities response;
  CAIRN_RETURN_IF_ERROR(connection_->retrier().Run(
      "GetCapabilities", Idempotency::kIdempotent, [&](Deadline deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
        return FromGrpcStatus(
            capabilities_stub_->GetCapabilities(context.get(), request, &response));
      }));
  const reapi::CacheCapabilities& cache = response.cache_capabilities();
  const auto& functions = cache.digest_functions();
  bool sha256 = std::find(functions.begin(), functions.end(), reapi::DigestFunction::SHA256) !=
                functions.end();
  // A server older than CacheCapabilities.digest_functions names its one
  // function in ExecutionCapabilities.
  if (functions.empty() &&
      response.execution_capabilities().digest_function() == reapi::DigestFunction::SHA256) {
    sha256 = true;
  }
  if (!sha256) {
    return FailedPrecondition("remote " + connection_->options().url + " (instance \"" +
                              connection_->options().instance_name +
                              "\") does not accept SHA256 digests, the only digest function "
                              "Cairn uses");
  }
  RemoteCapabilities capabilities;
  capabilities.max_batch_total_size_bytes = cache.max_batch_total_size_bytes();
  capabilities.max_cas_blob_size_bytes = cache.max_cas_blob_size_bytes();
  for (int compressor : cache.supported_compressors()) {
    if (compressor == reapi::Compressor::ZSTD) capabilities.zstd = true;
  }
  capabilities.exec_enabled = response.execution_capabilities().exec_enabled();
  capabilities.action_cache_update_enabled =
      cache.action_cache_update_capabilities().update_enabled();
  capabilities.symlink_strategy = cache.symlink_absolute_path_strategy();
  std::lock_guard<std::mutex> lock(mutex_);
  capabilities_ = capabilities;
  return capabilities;
}

StatusOr<std::vector<Digest>> CasClient::FindMissing(const std::vector<Digest>& digests) {
  std::vector<Digest> missing;
  for (size_t start = 0; start < digests.size(); start += kFindMissingChunk) {
    reapi::FindMissingBlobsRequest request;
    request.set_instance_name(connection_->options().instance_name);
    size_t end = std::min(digests.size(), start + kFindMissingChunk);
    for (size_t i = start; i < end; ++i) *request.add_blob_digests() = digests[i];
    reapi::FindMissingBlobsResponse response;
    CAIRN_RETURN_IF_ERROR(connection_->retrier().Run(
        "FindMissingBlobs", Idempotency::kIdempotent, [&](Deadline deadline) -> Status {
          CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
          response.Clear();
          return FromGrpcStatus(cas_->FindMissingBlobs(context.get(), request, &response));
        }));
    missing.insert(missing.end(), response.missing_blob_digests().begin(),
                   response.missing_blob_digests().end());
  }
  return missing;
}

Status CasClient::Upload(const std::vector<Digest>& digests, Storage& local) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> missing, FindMissing(Distinct(digests)));
  return UploadMissing(missing, local);
}

Status CasClient::UploadMissing(const std::vector<Digest>& missing, Storage& local) {
  CAIRN_ASSIGN_OR_RETURN(RemoteCapabilities capabilities, Capabilities());
  const int64_t batch_bytes = capabilities.BatchBytes();
  std::vector<Digest> batch;
  int64_t batch_total = 0;
  for (const Digest& digest : missing) {
    int64_t cost = digest.size_bytes() + kEntryOverhead;
    if (cost > batch_bytes) {
      CAIRN_RETURN_IF_ERROR(WriteStream(digest, local));
      continue;
    }
    if (batch_total + cost > batch_bytes) {
      CAIRN_RETURN_IF_ERROR(UploadBatch(batch, local));
      batch.clear();
      batch_total = 0;
    }
    batch.push_back(digest);
    batch_total += cost;
  }
  if (!batch.empty()) CAIRN_RETURN_IF_ERROR(UploadBatch(batch, local));
  return Status::Ok();
}

Status CasClient::UploadBatch(const std::vector<Digest>& digests, Storage& local) {
  reapi::BatchUpdateBlobsRequest request;
  request.set_instance_name(connection_->options().instance_name);
  for (const Digest& digest : digests) {
    StatusOr<std::string> data = local.ReadBlob(digest);
    if (!data.ok()) {
      return data.status().WithContext("uploading " + DigestToString(digest) + " to " +
                                       connection_->options().url);
    }
    auto* entry = request.add_requests();
    *entry->mutable_digest() = digest;
    entry->set_data(std::move(data).value());
  }
  return connection_->retrier().Run(
      "BatchUpdateBlobs", Idempotency::kIdempotent, [&](Deadline deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
        reapi::BatchUpdateBlobsResponse response;
        CAIRN_RETURN_IF_ERROR(
            FromGrpcStatus(cas_->BatchUpdateBlobs(context.get(), request, &response)));
        // Entries that failed for a passing reason (RESOURCE_EXHAUSTED, ...)
        // go again, alone; any other failure ends the upload.
        std::set<Digest> again;
        Status retryable;
        for (const auto& entry : response.responses()) {
          if (entry.status().code() == 0) continue;
          Status failed(static_cast<Code>(entry.status().code()),
                        DigestToString(entry.digest()) + ": " + entry.status().message());
          if (!IsRetryable(failed.code(), Idempotency::kIdempotent)) return failed;
          again.insert(entry.digest());
          retryable = failed;
        }
        if (again.empty()) return Status::Ok();
        reapi::BatchUpdateBlobsRequest rest;
        rest.set_instance_name(request.instance_name());
        for (auto& entry : *request.mutable_requests()) {
          if (again.count(entry.digest()) > 0) *rest.add_requests() = std::move(entry);
        }
        request = std::move(rest);
        return retryable;
      });
}

Status CasClient::WriteStream(const Digest& digest, Storage& local) {
  BlobResourceName name;
  name.instance_name = connection_->options().instance_name;
  name.upload_id = RandomUuid();
  name.digest = digest;
  const std::string resource = FormatWriteResourceName(name);
  const int64_t size = digest.size_bytes();
  bool resuming = false;
  return connection_->retrier().Run(
      "ByteStream.Write " + resource, Idempotency::kIdempotent, [&](Deadline deadline) -> Status {
        int64_t offset = 0;
        if (resuming) {
          // Continue where the server got to; an upload it does not know
          // (or a server without QueryWriteStatus) starts again from 0.
          CAIRN_ASSIGN_OR_RETURN(auto query_context, connection_->NewContext(deadline));
          bytestream::QueryWriteStatusRequest query;
          query.set_resource_name(resource);
          bytestream::QueryWriteStatusResponse progress;
          grpc::Status queried =
              bytestream_->QueryWriteStatus(query_context.get(), query, &progress);
          if (queried.ok()) {
            if (progress.complete()) return Status::Ok();
            if (progress.committed_size() > 0 && progress.committed_size() <= size) {
              offset = progress.committed_size();
            }
          }
        }
        resuming = true;
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
        bytestream::WriteResponse response;
        std::unique_ptr<grpc::ClientWriterInterface<bytestream::WriteRequest>> writer =
            bytestream_->Write(context.get(), &response);
        bool first = true;
        do {
          int64_t length = std::min(kChunkBytes, size - offset);
          std::string data;
          if (length > 0) {
            StatusOr<std::string> read = local.ReadBlob(digest, static_cast<uint64_t>(offset),
                                                        static_cast<uint64_t>(length));
            if (!read.ok() || static_cast<int64_t>(read->size()) != length) {
              context->TryCancel();
              (void)writer->Finish();
              Status why =
                  read.ok() ? DataLoss("the local store returned " + std::to_string(read->size()) +
                                       " bytes for " + std::to_string(length))
                            : read.status();
              return why.WithContext("reading local blob " + DigestToString(digest) + " at " +
                                     std::to_string(offset));
            }
            data = std::move(read).value();
          }
          bytestream::WriteRequest request;
          if (first) request.set_resource_name(resource);
          first = false;
          request.set_write_offset(offset);
          request.set_finish_write(offset + length == size);
          request.set_data(std::move(data));
          // false: the server ended the call (it may already have the
          // blob); Finish says how.
          if (!writer->Write(request)) break;
          offset += length;
        } while (offset < size);
        writer->WritesDone();
        grpc::Status finished = writer->Finish();
        if (!finished.ok()) return FromGrpcStatus(finished);
        // -1 is a compressed upload that found the blob present.
        if (response.committed_size() != size && response.committed_size() != -1) {
          return Internal("the server committed " + std::to_string(response.committed_size()) +
                          " of " + std::to_string(size) + " bytes");
        }
        return Status::Ok();
      });
}

Status CasClient::Download(const std::vector<Digest>& digests, Storage& local) {
  CAIRN_ASSIGN_OR_RETURN(RemoteCapabilities capabilities, Capabilities());
  StatusOr<std::vector<Digest>> missing = local.FindMissing(Distinct(digests));
  if (!missing.ok()) return missing.status().WithContext("asking the local store what it lacks");
  const int64_t batch_bytes = capabilities.BatchBytes();
  std::vector<Digest> batch;
  int64_t batch_total = 0;
  for (const Digest& digest : *missing) {
    int64_t cost = digest.size_bytes() + kEntryOverhead;
    if (cost > batch_bytes) {
      CAIRN_RETURN_IF_ERROR(ReadStream(digest, local));
      continue;
    }
    if (batch_total + cost > batch_bytes) {
      CAIRN_RETURN_IF_ERROR(DownloadBatch(batch, local));
      batch.clear();
      batch_total = 0;
    }
    batch.push_back(digest);
    batch_total += cost;
  }
  if (!batch.empty()) CAIRN_RETURN_IF_ERROR(DownloadBatch(batch, local));
  return Status::Ok();
}

Status CasClient::DownloadBatch(const std::vector<Digest>& digests, Storage& local) {
  reapi::BatchReadBlobsRequest request;
  request.set_instance_name(connection_->options().instance_name);
  for (const Digest& digest : digests) *request.add_digests() = digest;
  return connection_->retrier().Run(
      "BatchReadBlobs", Idempotency::kIdempotent, [&](Deadline deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
        reapi::BatchReadBlobsResponse response;
        CAIRN_RETURN_IF_ERROR(
            FromGrpcStatus(cas_->BatchReadBlobs(context.get(), request, &response)));
        std::set<Digest> wanted(request.digests().begin(), request.digests().end());
        std::vector<const reapi::BatchReadBlobsResponse::Response*> received;
        std::vector<Digest> again;
        Status retryable;
        for (const auto& entry : response.responses()) {
          if (wanted.erase(entry.digest()) == 0) {
            return DataLoss("the server returned " + DigestToString(entry.digest()) +
                            ", which was not asked for (or twice)");
          }
          if (entry.status().code() != 0) {
            Status failed(static_cast<Code>(entry.status().code()),
                          DigestToString(entry.digest()) + ": " + entry.status().message());
            if (!IsRetryable(failed.code(), Idempotency::kIdempotent)) return failed;
            again.push_back(entry.digest());
            retryable = failed;
            continue;
          }
          received.push_back(&entry);
        }
        // Hashing and writing many small blobs is most of a pull: spread
        // over a few threads (the local store is thread-safe).
        CAIRN_RETURN_IF_ERROR(ParallelFor(received.size(), kWriteThreads, [&](size_t i) -> Status {
          const auto& entry = *received[i];
          // Checked before the local store sees it: a store trusting
          // its writer must never hold a blob under the wrong name.
          Digest actual = DigestOfBytes(entry.data());
          if (actual != entry.digest()) {
            return DataLoss("the server returned " + DigestToString(actual) + " for " +
                            DigestToString(entry.digest()));
          }
          StatusOr<Digest> written = local.WriteBlob(entry.data(), entry.digest());
          if (!written.ok()) {
            return written.status().WithContext("storing " + DigestToString(entry.digest()) +
                                                " locally");
          }
          return Status::Ok();
        }));
        if (!wanted.empty()) {
          return DataLoss("the server left out " + DigestToString(*wanted.begin()));
        }
        if (again.empty()) return Status::Ok();
        request.clear_digests();
        for (const Digest& digest : again) *request.add_digests() = digest;
        return retryable;
      });
}

Status CasClient::ReadStream(const Digest& digest, Storage& local) {
  const std::string& url = connection_->options().url;
  TempFile file;
  if (file.fd() < 0) {
    return Internal(std::string("creating a temporary file for a download: ") +
                    std::strerror(errno));
  }
  BlobResourceName name;
  name.instance_name = connection_->options().instance_name;
  name.digest = digest;
  const std::string resource = FormatReadResourceName(name);
  const int64_t size = digest.size_bytes();
  Sha256 hasher;
  int64_t received = 0;
  // A retry continues from the bytes already received: the hash is
  // incremental and the file is appended to.
  CAIRN_RETURN_IF_ERROR(connection_->retrier().Run(
      "ByteStream.Read " + resource, Idempotency::kIdempotent, [&](Deadline deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
        bytestream::ReadRequest request;
        request.set_resource_name(resource);
        request.set_read_offset(received);
        std::unique_ptr<grpc::ClientReaderInterface<bytestream::ReadResponse>> reader =
            bytestream_->Read(context.get(), request);
        bytestream::ReadResponse response;
        while (reader->Read(&response)) {
          const std::string& data = response.data();
          if (received + static_cast<int64_t>(data.size()) > size) {
            context->TryCancel();
            (void)reader->Finish();
            return DataLoss("the server sent more than the " + std::to_string(size) + " bytes of " +
                            DigestToString(digest));
          }
          Status written = WriteAll(file.fd(), data, file.path());
          if (!written.ok()) {
            context->TryCancel();
            (void)reader->Finish();
            return written;
          }
          hasher.Update(data);
          received += static_cast<int64_t>(data.size());
        }
        return FromGrpcStatus(reader->Finish());
      }));
  std::string hash = hasher.FinishHex();
  if (received != size || hash != digest.hash()) {
    return DataLoss(url + ": ByteStream.Read of " + DigestToString(digest) + " gave " + hash + "/" +
                    std::to_string(received));
  }
  StatusOr<Digest> written = local.WriteBlobFromPath(file.path(), /*move_source=*/false, digest);
  if (!written.ok()) {
    return written.status().WithContext("storing " + DigestToString(digest) + " from " + url);
  }
  return Status::Ok();
}

Status CasClient::UploadTree(const Digest& root, Storage& local) {
  StatusOr<CollectedTree> tree = CollectTree(local, root);
  if (!tree.ok()) {
    return tree.status().WithContext("reading the local tree " + DigestToString(root));
  }
  return Upload(tree->AllDigests(), local);
}

Status CasClient::DownloadTree(const Digest& root, Storage& local) {
  std::set<Digest> seen_directories{root};
  std::set<Digest> files;
  std::vector<Digest> level{root};
  while (!level.empty()) {
    CAIRN_RETURN_IF_ERROR(Download(level, local));
    std::vector<Digest> next;
    for (const Digest& digest : level) {
      StatusOr<Directory> directory = ReadDirectory(local, digest);
      if (!directory.ok()) {
        return directory.status().WithContext("reading the tree " + DigestToString(root) +
                                              " from " + connection_->options().url);
      }
      for (const auto& file : directory->files()) files.insert(file.digest());
      for (const auto& child : directory->directories()) {
        if (seen_directories.insert(child.digest()).second) next.push_back(child.digest());
      }
    }
    level = std::move(next);
  }
  return Download(std::vector<Digest>(files.begin(), files.end()), local);
}

}  // namespace cairn::remote_client
