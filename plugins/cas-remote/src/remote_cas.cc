#include "remote_cas.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "cache_stage.h"
#include "cairn/plugin_options.h"
#include "cairn/remote_client/remote_connection_options.h"
#include "cairn/unique_fd.h"
#include "directory_capture.h"
#include "file_reading.h"
#include "upload_source.h"

namespace cairn::cas_remote {

using remote_client::RemoteConnection;
using remote_client::RemoteConnectionOptions;

namespace {

constexpr char kDefaultCacheSize[] = "1G";

const remote_client::ToolIdentity& Tool() {
  static const remote_client::ToolIdentity kTool{"cairn", CAIRN_VERSION};
  return kTool;
}

// Storage plugins get no scratch directory from today's host (it is made
// when the first sandbox opens, after the store), hence the fallback.
std::string DefaultCachePath(const HostServices& host) {
  std::string scratch = host.scratch_dir();
  if (!scratch.empty()) return scratch + "/cas-remote-cache";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/cairn/cas-remote-cache";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    return std::string(home) + "/.cache/cairn/cas-remote-cache";
  }
  return (std::filesystem::temp_directory_path() /
          ("cairn-cas-remote-cache-" + std::to_string(::getuid())))
      .string();
}

Status CopyToFd(int from, int to, const std::string& what) {
  std::string buffer(1 << 16, '\0');
  for (;;) {
    ssize_t got = ::read(from, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("read the cached blob", what, errno);
    if (got == 0) return Status::Ok();
    size_t done = 0;
    while (done < static_cast<size_t>(got)) {
      ssize_t written = ::write(to, buffer.data() + done, static_cast<size_t>(got) - done);
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) return ErrnoStatus("write", what, errno);
      done += static_cast<size_t>(written);
    }
  }
}

}  // namespace

StatusOr<std::unique_ptr<Storage>> RemoteCas::Open(const HostServices& host,
                                                   std::string_view options_yaml) {
  CAIRN_ASSIGN_OR_RETURN(PluginOptions options, PluginOptions::Parse(options_yaml, "cas-remote"));
  if (!options.Has("url")) {
    return InvalidArgument(
        "cas-remote needs a server: set its `url` option (grpc://HOST:PORT, grpcs://HOST:PORT "
        "or unix:PATH)");
  }
  CAIRN_ASSIGN_OR_RETURN(RemoteConnectionOptions endpoint,
                         remote_client::ReadConnectionOptions(options));
  CAIRN_ASSIGN_OR_RETURN(std::string cache_path,
                         options.GetString("cache-path", DefaultCachePath(host)));
  CAIRN_ASSIGN_OR_RETURN(std::string cache_size_text,
                         options.GetString("cache-size", kDefaultCacheSize));
  CAIRN_RETURN_IF_ERROR(options.Finish());
  StatusOr<uint64_t> cache_size = ParseByteSize(cache_size_text);
  if (!cache_size.ok()) return cache_size.status().WithContext("cas-remote: option cache-size");
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<RemoteConnection> connection,
                         RemoteConnection::Create(endpoint, Tool()));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobCache> cache,
                         BlobCache::Open(cache_path, *cache_size));
  return std::unique_ptr<Storage>(new RemoteCas(host, std::move(connection), std::move(cache)));
}

RemoteCas::RemoteCas(HostServices host, std::shared_ptr<RemoteConnection> connection,
                     std::unique_ptr<BlobCache> cache)
    : host_(std::move(host)),
      connection_(std::move(connection)),
      cas_(connection_),
      assets_(connection_),
      cache_(std::move(cache)) {
  action_caches_[connection_->options().instance_name] =
      std::make_shared<remote_client::ActionCacheClient>(connection_);
}

// --- Blobs.

StatusOr<std::vector<Digest>> RemoteCas::FindMissing(const std::vector<Digest>& digests) {
  for (const Digest& digest : digests) CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  return cas_.FindMissing(digests);
}

StatusOr<bool> RemoteCas::Contains(const Digest& digest) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> missing, FindMissing({digest}));
  return missing.empty();
}

Status RemoteCas::Fetch(const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  CAIRN_ASSIGN_OR_RETURN(bool cached, cache_->Contains(digest));
  if (cached) return Status::Ok();
  // Every store holds the empty blob; no server needs asking for it.
  if (IsEmptyDigest(digest)) return cache_->WriteBlob("", digest).status();
  return cas_.Download({digest}, *cache_);
}

StatusOr<std::string> RemoteCas::ReadBlob(const Digest& digest, uint64_t offset, uint64_t limit) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  if (offset > static_cast<uint64_t>(digest.size_bytes())) {
    return OutOfRange("offset " + std::to_string(offset) + " is past the end of blob " +
                      DigestToString(digest));
  }
  BlobCache::Hold hold(*cache_);
  CAIRN_RETURN_IF_ERROR(Fetch(digest));
  StatusOr<std::string> read = cache_->ReadBlob(digest, offset, limit);
  if (read.ok() || read.status().code() != Code::kNotFound) return read;
  // Removed by another process sharing the cache in between.
  CAIRN_RETURN_IF_ERROR(Fetch(digest));
  return cache_->ReadBlob(digest, offset, limit);
}

StatusOr<UniqueFd> RemoteCas::OpenFetched(const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(Fetch(digest));
  StatusOr<UniqueFd> fd = cache_->OpenBlob(digest);
  if (fd.ok() || fd.status().code() != Code::kNotFound) return fd;
  // Removed by another process sharing the cache in between.
  CAIRN_RETURN_IF_ERROR(Fetch(digest));
  return cache_->OpenBlob(digest);
}

Status RemoteCas::ReadBlobToFd(const Digest& digest, int fd) {
  BlobCache::Hold hold(*cache_);
  CAIRN_ASSIGN_OR_RETURN(UniqueFd in, OpenFetched(digest));
  return CopyToFd(in.get(), fd, "blob " + DigestToString(digest));
}

Status RemoteCas::ReadBlobToPath(const Digest& digest, const std::string& path, bool executable) {
  BlobCache::Hold hold(*cache_);
  CAIRN_ASSIGN_OR_RETURN(UniqueFd in, OpenFetched(digest));  // absent: nothing created
  mode_t mode = executable ? 0755 : 0644;
  UniqueFd out(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!out.valid()) return ErrnoStatus("create", path, errno);
  Status status = CopyToFd(in.get(), out.get(), path);
  if (status.ok() && ::fchmod(out.get(), mode) != 0) status = ErrnoStatus("chmod", path, errno);
  if (!status.ok()) ::unlink(path.c_str());
  return status;
}

StatusOr<Digest> RemoteCas::WriteBlob(std::string_view data,
                                      const std::optional<Digest>& expected) {
  Digest digest = DigestOfBytes(data);
  CAIRN_RETURN_IF_ERROR(CheckExpectedDigest(digest, expected, "the data"));
  UploadSource source;
  source.AddBytes(digest, std::string(data));
  CAIRN_RETURN_IF_ERROR(cas_.Upload({digest}, source));
  return digest;
}

StatusOr<Digest> RemoteCas::UploadFromCache(const StatusOr<Digest>& cached) {
  if (!cached.ok()) return cached.status();
  CAIRN_RETURN_IF_ERROR(cas_.Upload({*cached}, *cache_));
  return *cached;
}

StatusOr<Digest> RemoteCas::WriteBlobFromFd(int fd, const std::optional<Digest>& expected) {
  // A descriptor may not seek (a pipe): its bytes go through the cache.
  BlobCache::Hold hold(*cache_);
  return UploadFromCache(cache_->WriteBlobFromFd(fd, expected));
}

StatusOr<Digest> RemoteCas::WriteBlobFromPath(const std::string& path, bool move_source,
                                              const std::optional<Digest>& expected) {
  if (move_source) {
    // Taken by the cache (a rename when it can be), uploaded from there.
    BlobCache::Hold hold(*cache_);
    return UploadFromCache(cache_->WriteBlobFromPath(path, true, expected));
  }
  // Never follows a symlink: the path names an output the caller checked.
  struct stat info {};
  CAIRN_ASSIGN_OR_RETURN(UniqueFd fd, OpenRegularFile(path, &info));
  CAIRN_ASSIGN_OR_RETURN(Digest digest, DigestOfFd(fd.get()));
  CAIRN_RETURN_IF_ERROR(CheckExpectedDigest(digest, expected, path));
  UploadSource source;
  source.AddFile(digest, path);
  CAIRN_RETURN_IF_ERROR(cas_.Upload({digest}, source));
  return digest;
}

// --- Trees.

Status RemoteCas::StageTree(const Digest& root, const std::string& path,
                            const StageOptions& options) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(root));
  struct stat target {};
  if (::stat(path.c_str(), &target) != 0) return ErrnoStatus("stage into", path, errno);
  if (!S_ISDIR(target.st_mode)) {
    return FailedPrecondition("cannot stage into " + path + ": not a directory");
  }
  BlobCache::Hold hold(*cache_);
  CAIRN_RETURN_IF_ERROR(cas_.DownloadTree(root, *cache_));
  return StageFromCache(
      *cache_, root, path, options, [this](const Digest& digest) { return Fetch(digest); },
      [this] { return host_.IsCancelled(); });
}

StatusOr<CapturedTree> RemoteCas::CaptureTree(const std::string& path,
                                              const CaptureOptions& options) {
  UploadSource source;
  CAIRN_ASSIGN_OR_RETURN(CapturedTree captured,
                         CaptureDirectory(
                             path, options, [this] { return host_.IsCancelled(); }, &source));
  Status uploaded = cas_.Upload(source.Digests(), source);
  if (!uploaded.ok()) return uploaded.WithContext("uploading the capture of " + path);
  return captured;
}

// --- Action cache.

StatusOr<std::shared_ptr<remote_client::ActionCacheClient>> RemoteCas::ActionCacheOf(
    const std::string& instance) {
  const RemoteConnectionOptions& endpoint = connection_->options();
  const std::string& name = instance.empty() ? endpoint.instance_name : instance;
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = action_caches_.find(name);
  if (found != action_caches_.end()) return found->second;
  // The client names its instance through its connection.
  RemoteConnectionOptions other = endpoint;
  other.instance_name = name;
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<RemoteConnection> connection,
                         RemoteConnection::Create(other, Tool()));
  auto client = std::make_shared<remote_client::ActionCacheClient>(connection);
  action_caches_[name] = client;
  return client;
}

StatusOr<ActionResult> RemoteCas::GetActionResult(const std::string& instance,
                                                  const Digest& action) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(action));
  CAIRN_ASSIGN_OR_RETURN(auto client, ActionCacheOf(instance));
  CAIRN_ASSIGN_OR_RETURN(
      std::optional<ActionResult> result,
      client->Get(action, action.hash(), [this] { return host_.IsCancelled(); }));
  if (!result.has_value()) {
    return NotFound(url() + ": no action result for " + DigestToString(action) + " (instance \"" +
                    (instance.empty() ? connection_->options().instance_name : instance) + "\")");
  }
  return std::move(*result);
}

Status RemoteCas::UpdateActionResult(const std::string& instance, const Digest& action,
                                     const ActionResult& result) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(action));
  CAIRN_ASSIGN_OR_RETURN(auto client, ActionCacheOf(instance));
  return client->Update(action, result, action.hash());
}

// --- References and assets.

StatusOr<Digest> RemoteCas::GetReference(const std::string& name) {
  if (name.empty()) return InvalidArgument("a reference name must not be empty");
  AssetFetchRequest request;
  request.add_uris(kReferenceUriPrefix + name);
  StatusOr<std::optional<AssetFetchResponse>> found = assets_.Fetch(AssetKind::kBlob, request);
  if (!found.ok()) return found.status().WithContext("reading the reference '" + name + "'");
  if (!found->has_value()) return NotFound("no reference '" + name + "' on " + url());
  return (*found)->blob_digest();
}

Status RemoteCas::SetReference(const std::string& name, const Digest& digest) {
  if (name.empty()) return InvalidArgument("a reference name must not be empty");
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  AssetPushRequest request;
  request.add_uris(kReferenceUriPrefix + name);
  *request.mutable_blob_digest() = digest;
  return assets_.Push(AssetKind::kBlob, request)
      .WithContext("setting the reference '" + name + "' to " + DigestToString(digest));
}

Status RemoteCas::PushAsset(AssetKind kind, const AssetPushRequest& request) {
  return assets_.Push(kind, request);
}

StatusOr<AssetFetchResponse> RemoteCas::FetchAsset(AssetKind kind,
                                                   const AssetFetchRequest& request) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<AssetFetchResponse> found, assets_.Fetch(kind, request));
  // The store's contract: nothing under that name is NOT_FOUND.
  if (!found.has_value()) return NotFound("no such asset on " + url());
  return std::move(*found);
}

Status RemoteCas::RemoveAsset(AssetKind, const AssetFetchRequest&) {
  return Unimplemented("cas-remote: the Remote Asset API has no way to remove an asset from " +
                       url());
}

// --- Maintenance.

StatusOr<VerifyReport> RemoteCas::Verify(bool) {
  return Unimplemented("cas-remote: verifying the store is the server's business (" + url() +
                       "); the local cache holds only verified copies");
}

StatusOr<uint64_t> RemoteCas::CollectGarbage(uint64_t) {
  return Unimplemented("cas-remote: collecting garbage is the server's business (" + url() +
                       "); the local cache evicts by itself (cache-size)");
}

StatusOr<StorageStats> RemoteCas::Stats() { return cache_->Usage(); }

// --- Resumable writes: the bytes gather in a local file, and the whole
// blob goes to the server when the caller finishes (checked first).

std::string RemoteCas::UploadPath(const std::string& upload_id) const {
  return cache_->path() + "/uploads/" + DigestOfBytes(upload_id).hash();
}

StatusOr<UploadStatus> RemoteCas::UploadWrite(const std::string& upload_id, const Digest& expected,
                                              uint64_t offset, std::string_view data, bool finish) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(expected));
  std::lock_guard<std::mutex> lock(uploads_mutex_);
  const std::string path = UploadPath(upload_id);
  if (offset == 0) {
    // A blob the server has completes at once, as the contract says.
    CAIRN_ASSIGN_OR_RETURN(bool present, Contains(expected));
    if (present) {
      ::unlink(path.c_str());
      return UploadStatus{static_cast<uint64_t>(expected.size_bytes()), true};
    }
  }
  std::error_code ignored;
  std::filesystem::create_directories(cache_->path() + "/uploads", ignored);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoStatus("open", path, errno);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrnoStatus("stat", path, errno);
  const uint64_t committed = static_cast<uint64_t>(info.st_size);
  if (offset != committed) {
    return InvalidArgument("upload " + upload_id + ": a write at offset " + std::to_string(offset) +
                           ", but " + std::to_string(committed) + " bytes are held");
  }
  if (committed + data.size() > static_cast<uint64_t>(expected.size_bytes())) {
    ::unlink(path.c_str());
    return InvalidArgument("upload " + upload_id + ": more bytes than the " +
                           std::to_string(expected.size_bytes()) + " of " +
                           DigestToString(expected));
  }
  for (size_t done = 0; done < data.size();) {
    ssize_t written = ::pwrite(fd.get(), data.data() + done, data.size() - done,
                               static_cast<off_t>(offset + done));
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    done += static_cast<size_t>(written);
  }
  const uint64_t held = committed + data.size();
  if (!finish) return UploadStatus{held, false};
  fd.Reset();
  // Checked against the digest, then taken by the cache and uploaded; a
  // mismatch discards the upload.
  StatusOr<Digest> stored = WriteBlobFromPath(path, /*move_source=*/true, expected);
  ::unlink(path.c_str());
  if (!stored.ok()) return stored.status().WithContext("finishing upload " + upload_id);
  return UploadStatus{held, true};
}

StatusOr<UploadStatus> RemoteCas::QueryUpload(const std::string& upload_id,
                                              const Digest& expected) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(expected));
  CAIRN_ASSIGN_OR_RETURN(bool present, Contains(expected));
  if (present) return UploadStatus{static_cast<uint64_t>(expected.size_bytes()), true};
  std::lock_guard<std::mutex> lock(uploads_mutex_);
  struct stat info {};
  if (::stat(UploadPath(upload_id).c_str(), &info) != 0) return UploadStatus{0, false};
  return UploadStatus{static_cast<uint64_t>(info.st_size), false};
}

Status RemoteCas::AbortUpload(const std::string& upload_id) {
  std::lock_guard<std::mutex> lock(uploads_mutex_);
  ::unlink(UploadPath(upload_id).c_str());
  return Status::Ok();
}

StatusOr<StorageCapabilities> RemoteCas::Capabilities() {
  StorageCapabilities capabilities;
  capabilities.flags = CAIRN_STORAGE_INSTANCES | CAIRN_STORAGE_ASSETS | CAIRN_STORAGE_LOCAL_FILES |
                       CAIRN_STORAGE_REMOTE | CAIRN_STORAGE_UPLOADS;
  // The limits are the server's; a server that cannot be asked now states
  // none, and its own refusals say more later.
  StatusOr<remote_client::RemoteCapabilities> remote = cas_.Capabilities();
  if (remote.ok()) {
    capabilities.max_blob_size = static_cast<uint64_t>(remote->max_cas_blob_size_bytes);
    capabilities.max_batch_size = static_cast<uint64_t>(remote->max_batch_total_size_bytes);
  } else {
    host_.Debug("cas-remote: capabilities of " + url() + ": " + remote.status().ToString());
  }
  return capabilities;
}

}  // namespace cairn::cas_remote
