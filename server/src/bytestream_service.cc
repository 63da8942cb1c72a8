// The google.bytestream.ByteStream service: CAS blobs too large for a
// batch, read and written in chunks (REAPI's resource names, plain and
// compressed-blobs/zstd), with uploads that resume where a dropped stream
// left them.
//
// Memory stays bounded whatever the blob size: reads go to the store one
// kChunkBytes piece at a time, and every written message goes to the
// store's resumable upload before the next one is read, so no blob is
// ever held whole.
#include <algorithm>

#include "cairn/resource_name.h"
#include "cairn/status_details.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "request_checks.h"
#include "request_scope.h"
#include "services.h"
#include "zstd_codec.h"

namespace cairn::server {
namespace {

namespace bytestream = google::bytestream;
using Compressor = BlobResourceName::Compressor;

// Bytes of one store read, one ReadResponse and one store write of a
// decompressed upload: well under gRPC's 4 MiB message limit.
constexpr uint64_t kChunkBytes = 1 << 20;
// Compressed bytes fed to the decompressor at once. A zstd block of at
// most 128 KiB can be written in 4 bytes, so a slice this small yields at
// most 8 MiB before the output goes to the store, however the client packs
// its messages (a 4 MiB message of zeros would otherwise expand to GiBs).
constexpr size_t kCompressedSliceBytes = 256;
// The header REAPI lets a ByteStream call carry for routing; when present
// it must equal the request's resource_name.
constexpr char kResourceNameHeader[] = "build.bazel.remote.execution.v2.resource-name";

// Shortens a client's name for a message.
std::string Quoted(const std::string& text) {
  constexpr size_t kMaxShown = 200;
  if (text.size() <= kMaxShown) return "'" + text + "'";
  return "'" + text.substr(0, kMaxShown) + "...'";
}

// The store's name for the upload of `name`. The store takes ids that are
// safe file names and keys uploads by id alone, while a client's uuid is
// any segment, is only unique within its instance and may be reused for
// another blob: hashing instance, uuid and digest together gives every
// (instance, uuid, blob) its own id of [0-9a-f] characters.
std::string UploadId(const BlobResourceName& name) {
  std::string key = name.instance_name;
  key += '\0';
  key += name.upload_id;
  key += '\0';
  key += DigestToString(name.digest);
  return "bytestream-" + DigestOfBytes(key).hash();
}

class ByteStreamService final : public bytestream::ByteStream::Service {
 public:
  explicit ByteStreamService(ServerState& state) : state_(state) {}

  grpc::Status Read(grpc::ServerContext* context, const bytestream::ReadRequest* request,
                    grpc::ServerWriter<bytestream::ReadResponse>* writer) override {
    RequestScope scope(state_, context, "Read");
    return scope.Finish(ReadBlob(scope, *context, *request, writer));
  }

  grpc::Status Write(grpc::ServerContext* context,
                     grpc::ServerReader<bytestream::WriteRequest>* reader,
                     bytestream::WriteResponse* response) override {
    RequestScope scope(state_, context, "Write");
    return scope.Finish(WriteBlob(scope, *context, reader, response));
  }

  grpc::Status QueryWriteStatus(grpc::ServerContext* context,
                                const bytestream::QueryWriteStatusRequest* request,
                                bytestream::QueryWriteStatusResponse* response) override {
    RequestScope scope(state_, context, "QueryWriteStatus");
    return scope.Finish(QueryWrite(scope, *context, *request, response));
  }

 private:
  // Parses `resource_name`, enters its instance with `permission` and
  // checks what the name says: SHA-256, a digest within the limits, a
  // compressor this server speaks.
  StatusOr<BlobResourceName> EnterResource(RequestScope& scope, const grpc::ServerContext& context,
                                           const std::string& resource_name, bool write,
                                           Permission permission) {
    if (resource_name.empty()) return BadRequestError("resource_name", "is empty");
    StatusOr<BlobResourceName> name =
        write ? ParseWriteResourceName(resource_name) : ParseReadResourceName(resource_name);
    if (!name.ok()) return BadRequestError("resource_name", name.status().message());
    CAIRN_RETURN_IF_ERROR(scope.Enter(name->instance_name, permission, "resource_name"));
    auto header = context.client_metadata().find(kResourceNameHeader);
    if (header != context.client_metadata().end() &&
        std::string_view(header->second.data(), header->second.size()) != resource_name) {
      return BadRequestError(kResourceNameHeader,
                             "the header " +
                                 Quoted(std::string(header->second.data(), header->second.size())) +
                                 " differs from the resource_name " + Quoted(resource_name));
    }
    CAIRN_RETURN_IF_ERROR(CheckDigestFunction(name->digest_function, "resource_name"));
    CAIRN_RETURN_IF_ERROR(
        CheckDigest(name->digest, "resource_name", write ? state_.max_blob_size() : 0));
    if (name->compressor != Compressor::IDENTITY && name->compressor != Compressor::ZSTD) {
      return BadRequestError("resource_name",
                             "compressor " + Compressor::Value_Name(name->compressor) + " in " +
                                 Quoted(resource_name) + " is not supported (zstd is)");
    }
    return name;
  }

  Status ReadBlob(RequestScope& scope, const grpc::ServerContext& context,
                  const bytestream::ReadRequest& request,
                  grpc::ServerWriter<bytestream::ReadResponse>* writer) {
    const std::string& resource = request.resource_name();
    CAIRN_ASSIGN_OR_RETURN(
        BlobResourceName name,
        EnterResource(scope, context, resource, /*write=*/false, Permission::kRead));
    const bool compressed = name.compressor == Compressor::ZSTD;
    const uint64_t size = static_cast<uint64_t>(name.digest.size_bytes());
    if (request.read_offset() < 0) {
      return OutOfRange("read_offset " + std::to_string(request.read_offset()) + " of " +
                        Quoted(resource) + " is negative");
    }
    if (request.read_limit() < 0) {
      return BadRequestError(
          "read_limit", std::to_string(request.read_limit()) + " is negative (0 reads to the end)");
    }
    if (compressed && request.read_limit() != 0) {
      return BadRequestError("read_limit", "must be 0 for a compressed-blobs read, not " +
                                               std::to_string(request.read_limit()));
    }
    const uint64_t offset = static_cast<uint64_t>(request.read_offset());
    if (offset > size) {
      return OutOfRange("read_offset " + std::to_string(offset) + " is past the end of " +
                        Quoted(resource) + " (" + std::to_string(size) + " bytes)");
    }
    const uint64_t limit = static_cast<uint64_t>(request.read_limit());
    const uint64_t end = limit == 0 ? size : std::min(size, offset + limit);
    // An empty range reads nothing from the store, which must still have
    // the blob (the empty blob it always has).
    if (offset == end && size != 0) {
      CAIRN_ASSIGN_OR_RETURN(bool present, state_.storage().Contains(name.digest));
      if (!present) return NotFound("blob " + DigestToString(name.digest) + " is not in the CAS");
    }
    ZstdCompressor compressor;
    bytestream::ReadResponse response;
    uint64_t position = offset;
    do {
      std::string chunk;
      if (position < end) {
        StatusOr<std::string> read =
            state_.storage().ReadBlob(name.digest, position, std::min(kChunkBytes, end - position));
        if (!read.ok()) return read.status().WithContext("resource_name " + Quoted(resource));
        chunk = std::move(read).value();
        if (chunk.empty()) {
          return DataLoss("blob " + DigestToString(name.digest) + " ends at " +
                          std::to_string(position) + " bytes, short of its size");
        }
        position += chunk.size();
      }
      if (compressed) {
        response.mutable_data()->clear();
        CAIRN_RETURN_IF_ERROR(compressor.Feed(chunk, position == end, response.mutable_data()));
      } else {
        *response.mutable_data() = std::move(chunk);
      }
      if (response.data().empty()) continue;
      scope.AddBytesOut(response.data().size());
      if (!writer->Write(response))
        return Cancelled("the client stopped reading " + Quoted(resource));
    } while (position < end);
    return Status::Ok();
  }

  // One Write stream. Every message's data goes to the store's resumable
  // upload before the next message is read, so a stream that breaks keeps
  // what it delivered and the client resumes at QueryWriteStatus's
  // committed_size.
  Status WriteBlob(RequestScope& scope, const grpc::ServerContext& context,
                   grpc::ServerReader<bytestream::WriteRequest>* reader,
                   bytestream::WriteResponse* response) {
    bytestream::WriteRequest request;
    if (!reader->Read(&request)) {
      return BadRequestError("resource_name", "the stream ended before its first message");
    }
    const std::string resource = request.resource_name();
    if (resource.empty()) {
      return BadRequestError("resource_name", "the first message of a Write must name the blob");
    }
    CAIRN_ASSIGN_OR_RETURN(
        BlobResourceName name,
        EnterResource(scope, context, resource, /*write=*/true, Permission::kWrite));
    const bool compressed = name.compressor == Compressor::ZSTD;
    const uint64_t size = static_cast<uint64_t>(name.digest.size_bytes());
    const std::string upload_id = UploadId(name);
    // REAPI lets the server end the call at once when the blob is already
    // there: committed_size is the full size, or -1 for a compressed upload.
    auto complete_early = [&] {
      response->set_committed_size(compressed ? -1 : name.digest.size_bytes());
      return Status::Ok();
    };
    auto in_resource = [&](const Status& status) {
      return status.WithContext("resource_name " + Quoted(resource));
    };

    if (request.write_offset() < 0) {
      return BadRequestError("write_offset",
                             std::to_string(request.write_offset()) + " is negative");
    }
    const uint64_t first_offset = static_cast<uint64_t>(request.write_offset());
    if (first_offset > size) {
      return BadRequestError("write_offset", std::to_string(first_offset) + " is past the end of " +
                                                 Quoted(resource) + " (" + std::to_string(size) +
                                                 " bytes)");
    }
    if (size == 0) return complete_early();
    CAIRN_ASSIGN_OR_RETURN(bool present, state_.storage().Contains(name.digest));
    if (present) {
      // Whatever an earlier stream left of it is no longer needed.
      (void)state_.storage().AbortUpload(upload_id);
      return complete_early();
    }
    if (first_offset == 0) {
      // A client starting over (REAPI allows 0 as well as committed_size)
      // drops what an earlier stream of this upload left.
      CAIRN_RETURN_IF_ERROR(in_resource(state_.storage().AbortUpload(upload_id)));
    } else {
      CAIRN_ASSIGN_OR_RETURN(UploadStatus upload,
                             state_.storage().QueryUpload(upload_id, name.digest));
      if (upload.complete) return complete_early();
      if (upload.committed_size != first_offset) {
        return BadRequestError(
            "write_offset", std::to_string(first_offset) + " does not resume " + Quoted(resource) +
                                ", which has " + std::to_string(upload.committed_size) +
                                " bytes committed; continue there or start at 0");
      }
    }

    // The store's offset counts uncompressed bytes; the client's
    // write_offset counts compressed bytes after the first (REAPI mixes
    // the units on purpose).
    uint64_t stored = first_offset;
    int64_t next_offset = request.write_offset();
    std::unique_ptr<ZstdDecompressor> decompressor;
    if (compressed) decompressor = std::make_unique<ZstdDecompressor>(size - first_offset);
    std::string pending;

    auto store = [&](std::string_view data, bool finish) -> StatusOr<bool> {
      if (data.size() > size - stored) {
        return BadRequestError("data", std::to_string(data.size()) + " bytes at offset " +
                                           std::to_string(stored) + " run past the end of " +
                                           Quoted(resource) + " (" + std::to_string(size) +
                                           " bytes)");
      }
      StatusOr<UploadStatus> upload =
          state_.storage().UploadWrite(upload_id, name.digest, stored, data, finish);
      if (!upload.ok()) return in_resource(upload.status());
      stored += data.size();
      return upload->complete;
    };

    bool first = true;
    while (true) {
      if (!first) {
        if (!reader->Read(&request)) {
          if (context.IsCancelled()) return Cancelled("the client left " + Quoted(resource));
          return BadRequestError("finish_write", "the stream of " + Quoted(resource) +
                                                     " ended at offset " +
                                                     std::to_string(next_offset) +
                                                     " without a message finishing the write");
        }
        if (!request.resource_name().empty() && request.resource_name() != resource) {
          return BadRequestError("resource_name", Quoted(request.resource_name()) +
                                                      " differs from the stream's first " +
                                                      Quoted(resource));
        }
        if (request.write_offset() != next_offset) {
          return BadRequestError("write_offset", std::to_string(request.write_offset()) +
                                                     " where " + Quoted(resource) +
                                                     " continues at " +
                                                     std::to_string(next_offset));
        }
      }
      first = false;
      const std::string& data = request.data();
      scope.AddBytesIn(data.size());
      next_offset += static_cast<int64_t>(data.size());
      bool complete = false;
      if (compressed) {
        for (size_t at = 0; at < data.size() && !complete; at += kCompressedSliceBytes) {
          std::string_view slice = std::string_view(data).substr(at, kCompressedSliceBytes);
          Status fed = decompressor->Feed(slice, &pending);
          if (!fed.ok()) return BadRequestError("data", in_resource(fed).message());
          if (pending.size() >= kChunkBytes) {
            CAIRN_ASSIGN_OR_RETURN(complete, store(pending, false));
            pending.clear();
          }
        }
        if (!complete && request.finish_write()) {
          Status ended = decompressor->Finish();
          if (!ended.ok()) return BadRequestError("data", in_resource(ended).message());
        }
        if (!complete && (!pending.empty() || request.finish_write())) {
          CAIRN_ASSIGN_OR_RETURN(complete, store(pending, request.finish_write()));
          pending.clear();
        }
      } else if (!data.empty() || request.finish_write()) {
        CAIRN_ASSIGN_OR_RETURN(complete, store(data, request.finish_write()));
      }
      // Finished here, or by another client's upload of the same blob.
      if (complete) {
        if (!request.finish_write()) return complete_early();
        response->set_committed_size(name.digest.size_bytes());
        return Status::Ok();
      }
      if (request.finish_write()) {
        return Internal("the store did not complete " + Quoted(resource) + " on finish_write");
      }
    }
  }

  Status QueryWrite(RequestScope& scope, const grpc::ServerContext& context,
                    const bytestream::QueryWriteStatusRequest& request,
                    bytestream::QueryWriteStatusResponse* response) {
    CAIRN_ASSIGN_OR_RETURN(
        BlobResourceName name,
        EnterResource(scope, context, request.resource_name(), /*write=*/true, Permission::kWrite));
    if (name.digest.size_bytes() == 0) {
      response->set_committed_size(0);
      response->set_complete(true);
      return Status::Ok();
    }
    StatusOr<UploadStatus> upload = state_.storage().QueryUpload(UploadId(name), name.digest);
    if (!upload.ok()) {
      return upload.status().WithContext("resource_name " + Quoted(request.resource_name()));
    }
    response->set_committed_size(static_cast<int64_t>(upload->committed_size));
    response->set_complete(upload->complete);
    return Status::Ok();
  }

  ServerState& state_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeByteStreamService(ServerState& state) {
  return std::make_unique<ByteStreamService>(state);
}

}  // namespace cairn::server
