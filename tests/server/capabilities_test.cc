// GetCapabilities: what the server says it does, per instance.
#include "server_fixture.h"

namespace cairn::server {
namespace {

TEST_F(ServerTest, CapabilitiesNameSha256TheBatchLimitZstdAndExecution) {
  StartServer([](ServerConfig& config) { config.limits.max_batch_size = 1 << 20; });
  reapi::GetCapabilitiesRequest request;
  reapi::ServerCapabilities response;
  grpc::Status status = capabilities_->GetCapabilities(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const auto& cache = response.cache_capabilities();
  ASSERT_EQ(cache.digest_functions_size(), 1);
  EXPECT_EQ(cache.digest_functions(0), reapi::DigestFunction::SHA256);
  EXPECT_EQ(cache.max_batch_total_size_bytes(), 1 << 20);
  EXPECT_TRUE(cache.action_cache_update_capabilities().update_enabled());
  EXPECT_EQ(cache.symlink_absolute_path_strategy(), reapi::SymlinkAbsolutePathStrategy::ALLOWED);
  ASSERT_EQ(cache.supported_compressors_size(), 1);
  EXPECT_EQ(cache.supported_compressors(0), reapi::Compressor::ZSTD);
  EXPECT_TRUE(response.execution_capabilities().exec_enabled());
  EXPECT_EQ(response.execution_capabilities().digest_function(), reapi::DigestFunction::SHA256);
  EXPECT_EQ(response.low_api_version().major(), 2);
  EXPECT_EQ(response.high_api_version().major(), 2);
  EXPECT_EQ(response.high_api_version().minor(), 3);
}

TEST_F(ServerTest, WithoutASandboxExecutionIsOffButTheCacheServes) {
  StartServer([](ServerConfig& config) { config.sandbox.plugin = kNoSandbox; });
  reapi::GetCapabilitiesRequest request;
  reapi::ServerCapabilities response;
  ASSERT_TRUE(capabilities_->GetCapabilities(Context().get(), request, &response).ok());
  EXPECT_FALSE(response.execution_capabilities().exec_enabled());
  EXPECT_EQ(response.cache_capabilities().digest_functions(0), reapi::DigestFunction::SHA256);
}

TEST_F(ServerTest, AnUnknownInstanceNameIsInvalidArgumentNamingIt) {
  StartServer();
  reapi::GetCapabilitiesRequest request;
  request.set_instance_name("nope");
  reapi::ServerCapabilities response;
  grpc::Status status = capabilities_->GetCapabilities(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("\"nope\""), std::string::npos) << status.error_message();
}

TEST_F(ServerTest, AHostToolsInstanceDisallowsAbsoluteSymlinks) {
  StartServer([](ServerConfig& config) {
    InstanceConfig plain;
    InstanceConfig bazel;
    bazel.name = "bazel";
    bazel.host_tools = true;
    config.instances = {plain, bazel};
  });
  reapi::GetCapabilitiesRequest request;
  request.set_instance_name("bazel");
  reapi::ServerCapabilities response;
  grpc::Status status = capabilities_->GetCapabilities(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.cache_capabilities().symlink_absolute_path_strategy(),
            reapi::SymlinkAbsolutePathStrategy::DISALLOWED);
}

}  // namespace
}  // namespace cairn::server
