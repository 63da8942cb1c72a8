// Negotiation across minor versions of plugin ABI 1, against real shared
// objects claiming each minor (minor_storage_plugin.cc).
#include <gtest/gtest.h>

#include "cairn/runtime/plugin_registry.h"
#include "cairn/runtime/runtime.h"

namespace cairn {
namespace {

std::string Minor(const std::string& name) {
  return std::string(CAIRN_MINOR_DIR) + "/" + name + ".so";
}

class AbiMinorTest : public ::testing::Test {
 protected:
  // The store of the plugin `name`, opened by a Runtime as the host does.
  std::shared_ptr<Storage> Open(const std::string& name) {
    RuntimeOptions options;
    options.storage.plugin = name;
    runtime_ = std::make_unique<Runtime>(options, registry_);
    StatusOr<std::shared_ptr<Storage>> storage = runtime_->OpenStorage();
    EXPECT_TRUE(storage.ok()) << storage.status().ToString();
    return storage.ok() ? *storage : nullptr;
  }

  std::shared_ptr<PluginRegistry> registry_ =
      std::make_shared<PluginRegistry>(PluginRegistry::Discover({CAIRN_MINOR_DIR}));
  std::unique_ptr<Runtime> runtime_;
  Digest action_ = DigestOfBytes("an action");
};

TEST_F(AbiMinorTest, APluginOfAbi10LoadsInThisHost) {
  PluginRecord record = PluginRegistry::Inspect(Minor("storage-1-0"));
  ASSERT_TRUE(record.loaded) << record.reason;
  EXPECT_EQ(record.abi_minor, 0u);
}

TEST_F(AbiMinorTest, OperationsAddedIn11AreUnimplementedOnA10StoreAndNeverCalled) {
  // The 1.0 plugin's 1.1 callbacks abort the process: reaching one fails
  // this test outright.
  std::shared_ptr<Storage> store = Open("storage-1-0");
  ASSERT_NE(store, nullptr);
  StatusOr<StorageCapabilities> capabilities = store->Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
  EXPECT_EQ(capabilities->flags, 0u);
  EXPECT_EQ(store->UploadWrite("u1", DigestOfBytes("x"), 0, "x", true).status().code(),
            Code::kUnimplemented);
  EXPECT_EQ(store->QueryUpload("u1", DigestOfBytes("x")).status().code(), Code::kUnimplemented);
  EXPECT_EQ(store->AbortUpload("u1").code(), Code::kUnimplemented);
  EXPECT_EQ(store->PushAsset(AssetKind::kBlob, AssetPushRequest()).code(), Code::kUnimplemented);
  EXPECT_EQ(store->FetchAsset(AssetKind::kDirectory, AssetFetchRequest()).status().code(),
            Code::kUnimplemented);
  EXPECT_EQ(store->RemoveAsset(AssetKind::kBlob, AssetFetchRequest()).code(), Code::kUnimplemented);
}

TEST_F(AbiMinorTest, TheDefaultInstanceOfA10StoreUsesIts10ActionCacheAndOthersAreUnimplemented) {
  std::shared_ptr<Storage> store = Open("storage-1-0");
  ASSERT_NE(store, nullptr);
  Status default_instance = store->GetActionResult("", action_).status();
  EXPECT_EQ(default_instance.code(), Code::kNotFound);
  EXPECT_NE(default_instance.message().find("get_action_result (1.0)"), std::string::npos)
      << default_instance.message();
  EXPECT_EQ(store->GetActionResult("other", action_).status().code(), Code::kUnimplemented);
  EXPECT_EQ(store->UpdateActionResult("other", action_, ActionResult()).code(),
            Code::kUnimplemented);
}

TEST_F(AbiMinorTest, A10PluginHandingOverA11SizedTableIsRefusedWithBothSizes) {
  PluginRecord record = PluginRegistry::Inspect(Minor("storage-1-0-oversized"));
  EXPECT_FALSE(record.loaded);
  EXPECT_NE(record.reason.find("the storage operations table has struct_size " +
                               std::to_string(sizeof(cairn_storage_ops)) +
                               ", but plugin ABI 1.0 defines it as"),
            std::string::npos)
      << record.reason;
}

TEST_F(AbiMinorTest, A11PluginServesItsCapabilitiesAndEveryInstanceThrough11Operations) {
  PluginRecord record = PluginRegistry::Inspect(Minor("storage-1-1"));
  ASSERT_TRUE(record.loaded) << record.reason;
  EXPECT_EQ(record.abi_minor, 1u);
  std::shared_ptr<Storage> store = Open("storage-1-1");
  ASSERT_NE(store, nullptr);
  StatusOr<StorageCapabilities> capabilities = store->Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
  EXPECT_EQ(capabilities->flags, CAIRN_STORAGE_INSTANCES);
  EXPECT_EQ(capabilities->max_blob_size, 4096u);
  for (const std::string instance : {"", "other"}) {
    Status status = store->GetActionResult(instance, action_).status();
    EXPECT_NE(status.message().find("get_action_result_in (1.1)"), std::string::npos)
        << "instance '" << instance << "': " << status.message();
  }
  EXPECT_NE(store->UploadWrite("u1", DigestOfBytes("x"), 0, "x", true)
                .status()
                .message()
                .find("upload_write"),
            std::string::npos);
}

TEST_F(AbiMinorTest, APluginOfANewerMinorLoadsAndIsUsedThroughTheFieldsThisHostKnows) {
  PluginRecord record = PluginRegistry::Inspect(Minor("storage-newer"));
  ASSERT_TRUE(record.loaded) << record.reason;
  EXPECT_EQ(record.abi_minor, static_cast<uint32_t>(CAIRN_ABI_VERSION_MINOR + 1));
  std::shared_ptr<Storage> store = Open("storage-newer");
  ASSERT_NE(store, nullptr);
  StatusOr<StorageCapabilities> capabilities = store->Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
  EXPECT_EQ(capabilities->flags, CAIRN_STORAGE_INSTANCES);
  Status status = store->GetActionResult("x", action_).status();
  EXPECT_NE(status.message().find("get_action_result_in (1.1)"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace cairn
