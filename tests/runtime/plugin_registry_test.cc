#include "cairn/runtime/plugin_registry.h"

#include <gtest/gtest.h>

#include "cairn/sandbox_client.h"

namespace cairn {
namespace {

std::string Variant(const std::string& name) {
  return std::string(CAIRN_VARIANT_DIR) + "/" + name + ".so";
}

void ExpectRefused(const std::string& file, const std::string& reason_part) {
  PluginRecord record = PluginRegistry::Inspect(Variant(file));
  EXPECT_FALSE(record.loaded) << file;
  EXPECT_EQ(record.path, Variant(file));
  EXPECT_NE(record.reason.find(reason_part), std::string::npos)
      << "reason for " << file << " was: " << record.reason;
  EXPECT_EQ(record.library, nullptr) << "a refused plugin must not stay loaded";
}

TEST(PluginRegistryTest, WellFormedPluginLoadsWithItsDescriptor) {
  PluginRecord record = PluginRegistry::Inspect(Variant("good"));
  ASSERT_TRUE(record.loaded) << record.reason;
  EXPECT_EQ(record.name, "variant-good");
  EXPECT_EQ(record.kind, PluginKind::kSandbox);
  EXPECT_EQ(record.version, "0.1.0");
  EXPECT_EQ(record.abi_major, static_cast<uint32_t>(CAIRN_ABI_VERSION_MAJOR));
}

TEST(PluginRegistryTest, LibraryWithoutEntrySymbolIsRefusedAsNotACairnPlugin) {
  ExpectRefused("no-entry", "has no entry symbol 'cairn_plugin_entry'");
}

TEST(PluginRegistryTest, OtherAbiMajorIsRefusedNamingBothVersions) {
  ExpectRefused("other-abi-major", "built for plugin ABI 2.1, but this host speaks plugin ABI 1.1");
}

TEST(PluginRegistryTest, OversizedDescriptorOfTheSameAbiIsRefusedWithBothSizes) {
  PluginRecord record = PluginRegistry::Inspect(Variant("oversized-descriptor"));
  EXPECT_FALSE(record.loaded);
  EXPECT_NE(record.reason.find("its descriptor has struct_size " +
                               std::to_string(sizeof(cairn_plugin_descriptor) + 64)),
            std::string::npos)
      << record.reason;
  EXPECT_NE(record.reason.find("defines it as " + std::to_string(sizeof(cairn_plugin_descriptor))),
            std::string::npos)
      << record.reason;
}

TEST(PluginRegistryTest, NullRequiredCallbackIsRefusedNamingTheCallback) {
  ExpectRefused("null-callback", "required callback 'execute' is NULL");
}

TEST(PluginRegistryTest, ThrowingEntrySymbolIsRefusedAndTheHostCarriesOn) {
  ExpectRefused("throwing-entry", "its entry symbol threw an exception: entry exploded");
}

TEST(PluginRegistryTest, UnknownKindIsRefused) { ExpectRefused("unknown-kind", "unknown kind 7"); }

TEST(PluginRegistryTest, ThrowingCallbackBecomesInternalErrorNotACrash) {
  PluginRecord record = PluginRegistry::Inspect(Variant("throwing-callback"));
  ASSERT_TRUE(record.loaded) << record.reason;
  cairn_host_services host{};
  host.struct_size = sizeof(host);
  auto client = SandboxClient::Create(record.sandbox(), &host, "", "sandbox plugin " + record.name);
  ASSERT_TRUE(client.ok()) << client.status().ToString();

  StatusOr<SandboxCapabilities> capabilities = (*client)->Capabilities();
  EXPECT_EQ(capabilities.status().code(), Code::kInternal);
  EXPECT_NE(capabilities.status().message().find(
                "sandbox plugin variant-throwing-callback: capabilities"),
            std::string::npos)
      << capabilities.status().message();
  EXPECT_NE(capabilities.status().message().find("capabilities exploded"), std::string::npos);

  ExecuteOutcome outcome = (*client)->Execute(Action(), ExecuteOptions());
  EXPECT_EQ(outcome.status.code(), Code::kInternal);
  EXPECT_NE(outcome.status.message().find("execute exploded"), std::string::npos);
  EXPECT_FALSE(outcome.result.has_value());
}

TEST(PluginRegistryTest, DiscoverKeepsEveryPluginAndFindExplainsDisabledOnes) {
  PluginRegistry registry = PluginRegistry::Discover({CAIRN_VARIANT_DIR});
  EXPECT_EQ(registry.plugins().size(), 8u);
  StatusOr<const PluginRecord*> good = registry.Find(PluginKind::kSandbox, "variant-good");
  ASSERT_TRUE(good.ok()) << good.status().ToString();

  StatusOr<const PluginRecord*> null_callback =
      registry.Find(PluginKind::kSandbox, "variant-null-callback");
  EXPECT_EQ(null_callback.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(null_callback.status().message().find(Variant("null-callback")), std::string::npos);
  EXPECT_NE(null_callback.status().message().find("'execute' is NULL"), std::string::npos);

  StatusOr<const PluginRecord*> missing = registry.Find(PluginKind::kSandbox, "nonesuch");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("variant-good"), std::string::npos)
      << "the message lists what is available: " << missing.status().message();
}

TEST(PluginRegistryTest, LaterPluginWithTheSameNameIsShadowed) {
  PluginRegistry registry = PluginRegistry::Discover({Variant("good"), CAIRN_VARIANT_DIR});
  int loaded = 0;
  for (const PluginRecord& record : registry.plugins()) {
    if (record.name != "variant-good") continue;
    if (record.loaded) {
      ++loaded;
    } else {
      EXPECT_NE(record.reason.find("shadowed by " + Variant("good")), std::string::npos)
          << record.reason;
    }
  }
  EXPECT_EQ(loaded, 1);
}

TEST(PluginRegistryTest, SearchPathsPutConfiguredFirstThenEnvironmentThenInstalled) {
  setenv("CAIRN_PLUGIN_PATH", "/env/a:/env/b", 1);
  std::vector<std::string> paths = PluginRegistry::SearchPaths({"/configured"});
  unsetenv("CAIRN_PLUGIN_PATH");
  ASSERT_GE(paths.size(), 4u);
  EXPECT_EQ(paths[0], "/configured");
  EXPECT_EQ(paths[1], "/env/a");
  EXPECT_EQ(paths[2], "/env/b");
  EXPECT_NE(paths[3].find("cairn/plugins"), std::string::npos);
}

}  // namespace
}  // namespace cairn
