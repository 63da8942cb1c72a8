// ABI 1.1 of the real cas-local plugin through the C ABI: capabilities, the
// action cache per instance name, and what StorageClient makes of a table
// of ABI 1.0 (the same plugin's table cut to the 1.0 size).
#include <cstddef>

#include "cairn/runtime/plugin_registry.h"
#include "cairn/storage_client.h"
#include "cairn/storage_ops.h"
#include "cas_test_util.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

ActionResult ResultWithExitCode(int exit_code) {
  ActionResult result;
  result.set_exit_code(exit_code);
  return result;
}

TEST_F(CasTest, CapabilitiesOfferInstancesUploadsAssetsAndLocalFilesWithoutLimits) {
  ASSERT_OK_AND_ASSIGN(StorageCapabilities capabilities, store().Capabilities());
  EXPECT_EQ(capabilities.flags, CAIRN_STORAGE_INSTANCES | CAIRN_STORAGE_UPLOADS |
                                    CAIRN_STORAGE_ASSETS | CAIRN_STORAGE_LOCAL_FILES);
  EXPECT_EQ(capabilities.max_blob_size, 0u);
  EXPECT_EQ(capabilities.max_batch_size, 0u);
}

TEST_F(CasTest, ActionCachesOfDifferentInstancesNeverSeeEachOthersEntries) {
  Digest action = DigestOfBytes("one action");
  ASSERT_OK(store().UpdateActionResult("team-a", action, ResultWithExitCode(1)));
  EXPECT_EQ(store().GetActionResult("", action).status().code(), Code::kNotFound);
  EXPECT_EQ(store().GetActionResult("team-b", action).status().code(), Code::kNotFound);

  ASSERT_OK(store().UpdateActionResult("", action, ResultWithExitCode(2)));
  ASSERT_OK(store().UpdateActionResult("team-b", action, ResultWithExitCode(3)));
  Reopen("");
  ASSERT_OK_AND_ASSIGN(ActionResult a, store().GetActionResult("team-a", action));
  ASSERT_OK_AND_ASSIGN(ActionResult main, store().GetActionResult("", action));
  ASSERT_OK_AND_ASSIGN(ActionResult b, store().GetActionResult("team-b", action));
  EXPECT_EQ(a.exit_code(), 1);
  EXPECT_EQ(main.exit_code(), 2);
  EXPECT_EQ(b.exit_code(), 3);
  ASSERT_OK_AND_ASSIGN(StorageStats stats, store().Stats());
  EXPECT_EQ(stats.action_result_count, 3u);
}

TEST_F(CasTest, DefaultInstanceKeepsTheActionCacheLayoutOfEarlierStores) {
  Digest action = DigestOfBytes("old layout");
  ASSERT_OK(store().UpdateActionResult("", action, ResultWithExitCode(4)));
  EXPECT_TRUE(Exists(StorePath() + "/ac/" + action.hash().substr(0, 2) + "/" +
                     action.hash().substr(2) + "-" + std::to_string(action.size_bytes())));
}

TEST_F(CasTest, InstanceNameThatIsTooLongIsInvalidArgument) {
  Status status =
      store().UpdateActionResult(std::string(5000, 'x'), DigestOfBytes("a"), ActionResult());
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("5000"));
}

TEST_F(CasTest, InstanceNameWithANulCharacterIsInvalidArgument) {
  StatusOr<ActionResult> result =
      store().GetActionResult(std::string("main\0evil", 9), DigestOfBytes("a"));
  EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
}

// The plugin's own ops table, cut to the size ABI 1.0 defined, on a second
// store opened through the same vtable: what a 1.0 plugin looks like.
class Abi10TableTest : public CasTest {
 protected:
  void SetUp() override {
    CasTest::SetUp();
    record_ = PluginRegistry::Inspect(PluginPath());
    ASSERT_TRUE(record_.loaded) << record_.reason;
    vtable_ = record_.storage();
    services_.struct_size = sizeof(services_);
    services_.abi_major = CAIRN_ABI_VERSION_MAJOR;
    services_.abi_minor = CAIRN_ABI_VERSION_MINOR;
    std::string options = "path: " + StorePath() + "\n";
    ASSERT_OK(CallPlugin("open", [&](cairn_error* error) {
      return vtable_->open(&services_, options.data(), options.size(), &store_, error);
    }));
    old_ops_ = *vtable_->ops;
    old_ops_.struct_size = offsetof(cairn_storage_ops, capabilities);  // ABI 1.0
    old_client_ = std::make_unique<StorageClient>(&old_ops_, store_, "cas-local as 1.0");
  }
  void TearDown() override {
    old_client_.reset();
    if (store_ != nullptr) vtable_->close(store_);
  }
  Storage& old_store() { return *old_client_; }

  PluginRecord record_;  // keeps the library loaded
  const cairn_storage_vtable* vtable_ = nullptr;
  cairn_host_services services_{};
  void* store_ = nullptr;
  cairn_storage_ops old_ops_{};
  std::unique_ptr<StorageClient> old_client_;
};

TEST_F(Abi10TableTest, EveryOperationAddedIn11IsUnimplemented) {
  Digest digest = DigestOfBytes("x");
  ASSERT_OK_AND_ASSIGN(StorageCapabilities capabilities, old_store().Capabilities());
  EXPECT_EQ(capabilities.flags, 0u);
  EXPECT_EQ(old_store().UploadWrite("u1", digest, 0, "x", true).status().code(),
            Code::kUnimplemented);
  EXPECT_EQ(old_store().QueryUpload("u1", digest).status().code(), Code::kUnimplemented);
  EXPECT_EQ(old_store().AbortUpload("u1").code(), Code::kUnimplemented);
  AssetPushRequest push;
  push.add_uris("https://example.com/x");
  *push.mutable_blob_digest() = digest;
  EXPECT_EQ(old_store().PushAsset(AssetKind::kBlob, push).code(), Code::kUnimplemented);
  AssetFetchRequest fetch;
  fetch.add_uris("https://example.com/x");
  EXPECT_EQ(old_store().FetchAsset(AssetKind::kBlob, fetch).status().code(), Code::kUnimplemented);
  EXPECT_EQ(old_store().RemoveAsset(AssetKind::kBlob, fetch).code(), Code::kUnimplemented);
  EXPECT_EQ(old_store().GetActionResult("team-a", digest).status().code(), Code::kUnimplemented);
  EXPECT_EQ(old_store().UpdateActionResult("team-a", digest, ActionResult()).code(),
            Code::kUnimplemented);
}

TEST_F(Abi10TableTest, DefaultInstanceIsServedThroughTheActionCacheOf10) {
  Digest action = DigestOfBytes("shared action");
  ASSERT_OK(old_store().UpdateActionResult("", action, ResultWithExitCode(7)));
  ASSERT_OK_AND_ASSIGN(ActionResult seen_by_11, store().GetActionResult("", action));
  EXPECT_EQ(seen_by_11.exit_code(), 7);
  ASSERT_OK(store().UpdateActionResult("", action, ResultWithExitCode(8)));
  ASSERT_OK_AND_ASSIGN(ActionResult seen_by_10, old_store().GetActionResult("", action));
  EXPECT_EQ(seen_by_10.exit_code(), 8);
}

TEST(StorageOpsTest, CapabilitiesFillOnlyWhatTheCallersStructHasRoomFor) {
  StorageCapabilities capabilities;
  capabilities.flags = CAIRN_STORAGE_ASSETS;
  capabilities.max_blob_size = 1234;
  capabilities.max_batch_size = 5678;
  cairn_storage_capabilities raw{};
  raw.struct_size = offsetof(cairn_storage_capabilities, max_blob_size);  // a smaller caller
  raw.max_blob_size = 99;
  CapabilitiesToAbi(capabilities, &raw);
  EXPECT_EQ(raw.flags, CAIRN_STORAGE_ASSETS);
  EXPECT_EQ(raw.max_blob_size, 99u) << "wrote past the caller's struct_size";
  raw.struct_size = sizeof(raw);
  CapabilitiesToAbi(capabilities, &raw);
  StorageCapabilities back = CapabilitiesFromAbi(raw);
  EXPECT_EQ(back.max_blob_size, 1234u);
  EXPECT_EQ(back.max_batch_size, 5678u);
}

}  // namespace
}  // namespace cairn::testing
