// What the cas-remote tests share: CasRemoteTest, a ServerTest with the
// real cairn-server running in-process on 127.0.0.1 that opens stores of
// the real cas-remote plugin the way the host opens them (each with its own
// local cache unless told to share one) and asks the server's CAS
// directly what it holds; and bytes, files and reading them back.
#ifndef CAIRN_TESTS_CAS_REMOTE_CAS_REMOTE_SUPPORT_H
#define CAIRN_TESTS_CAS_REMOTE_CAS_REMOTE_SUPPORT_H

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cairn/runtime/plugin_registry.h"
#include "cairn/runtime/runtime.h"
#include "server_fixture.h"

namespace cairn {

inline std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

inline void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class CasRemoteTest : public server::ServerTest {
 protected:
  void SetUp() override { StartServer(); }

  std::string Url() const { return "grpc://127.0.0.1:" + std::to_string(server_->port()); }

  // A store opened the way the host opens one; each with its own cache
  // unless `cache` names one.
  std::shared_ptr<Storage> OpenStore(const std::string& extra_options = "",
                                     const std::string& url = "",
                                     const std::string& shared_cache = "") {
    std::string cache = shared_cache.empty()
                            ? dir_.path() + "/client-cache-" + std::to_string(runtimes_.size())
                            : shared_cache;
    RuntimeOptions options;
    options.storage.plugin = "cas-remote";
    options.storage.options_yaml = "url: " + (url.empty() ? Url() : url) +
                                   "\n"
                                   "cache-path: " +
                                   cache +
                                   "\n"
                                   "connection-config: {request-timeout: 30, retry-limit: 1, "
                                   "retry-delay: 50}\n" +
                                   extra_options;
    runtimes_.push_back(std::make_unique<Runtime>(
        options, std::make_shared<PluginRegistry>(PluginRegistry::Discover({CAIRN_PLUGIN_DIR}))));
    StatusOr<std::shared_ptr<Storage>> store = runtimes_.back()->OpenStorage();
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? *store : nullptr;
  }

  // Whether the server's CAS holds the blob (asked directly, not through
  // the plugin).
  bool ServerHas(const Digest& digest) {
    build::bazel::remote::execution::v2::FindMissingBlobsRequest request;
    *request.add_blob_digests() = digest;
    build::bazel::remote::execution::v2::FindMissingBlobsResponse response;
    grpc::Status status = cas_->FindMissingBlobs(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return status.ok() && response.missing_blob_digests_size() == 0;
  }

  std::vector<std::unique_ptr<Runtime>> runtimes_;
};

}  // namespace cairn

#endif  // CAIRN_TESTS_CAS_REMOTE_CAS_REMOTE_SUPPORT_H
