// Plugins that crash or hang while loading, the child-process probe that
// survives them, and the registry that loads only the plugin it is asked
// for (PluginRegistry::OnSearchPath) while keeping the shadowing rule.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "cairn/runtime/plugin_probe.h"
#include "cairn/runtime/plugin_registry.h"
#include "test_files.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

std::string Crashing(const std::string& name) {
  return std::string(CAIRN_CRASHING_DIR) + "/" + name + ".so";
}
std::string Variant(const std::string& name) {
  return std::string(CAIRN_VARIANT_DIR) + "/" + name + ".so";
}

// True when the library at `path` is mapped into this process.
bool LoadedHere(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

std::string CopyAs(const TempDir& dir, const std::string& from, const std::string& name) {
  std::string to = dir.path() + "/" + name;
  fs::copy_file(from, to);
  return to;
}

TEST(PluginProbeTest, ASegfaultInTheEntrySymbolIsReportedWithItsSignal) {
  PluginRecord record = ProbePlugin(Crashing("crash-in-entry"));
  EXPECT_FALSE(record.loaded);
  EXPECT_EQ(record.reason, "crashed with SIGSEGV while loading");
  EXPECT_EQ(record.path, Crashing("crash-in-entry"));
}

TEST(PluginProbeTest, AnAbortInAStaticConstructorIsReportedWithItsSignal) {
  PluginRecord record = ProbePlugin(Crashing("crash-in-constructor"));
  EXPECT_FALSE(record.loaded);
  EXPECT_EQ(record.reason, "crashed with SIGABRT while loading");
}

TEST(PluginProbeTest, AWellFormedPluginIsDescribedWithoutBeingLoadedHere) {
  PluginRecord record = ProbePlugin(Crashing("crash-in-create"));
  ASSERT_TRUE(record.loaded) << record.reason;
  EXPECT_EQ(record.name, "variant-crash-in-create");
  EXPECT_EQ(record.kind, PluginKind::kSandbox);
  EXPECT_EQ(record.version, "0.1.0");
  EXPECT_EQ(record.description, "a test plugin");
  EXPECT_EQ(record.abi_major, static_cast<uint32_t>(CAIRN_ABI_VERSION_MAJOR));
  EXPECT_EQ(record.library, nullptr);
  EXPECT_FALSE(LoadedHere(Crashing("crash-in-create")));
}

TEST(PluginProbeTest, ARefusedPluginKeepsTheReasonTheChildFound) {
  PluginRecord record = ProbePlugin(Variant("null-callback"));
  EXPECT_FALSE(record.loaded);
  EXPECT_EQ(record.reason, "required callback 'execute' is NULL");
}

TEST(PluginProbeTest, AHangingPluginIsGivenUpAfterTheTimeLimit) {
  PluginRecord record = ProbePlugin(std::string(CAIRN_HANGING_DIR) + "/hang-in-entry.so",
                                    std::chrono::milliseconds(300));
  EXPECT_FALSE(record.loaded);
  EXPECT_EQ(record.reason, "did not finish loading within 300 ms");
}

TEST(PluginLookupTest, FindLoadsOnlyThePluginAskedForPastCrashingOnes) {
  PluginRegistry registry = PluginRegistry::OnSearchPath({CAIRN_CRASHING_DIR, CAIRN_VARIANT_DIR});
  StatusOr<const PluginRecord*> good = registry.Find(PluginKind::kSandbox, "variant-good");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ((*good)->path, Variant("good"));
  EXPECT_NE((*good)->descriptor, nullptr);
  EXPECT_TRUE(LoadedHere(Variant("good")));
  EXPECT_FALSE(LoadedHere(Crashing("crash-in-create")));
  EXPECT_FALSE(LoadedHere(Variant("null-callback")));
  EXPECT_TRUE(registry.plugins().empty());
}

TEST(PluginLookupTest, FindReturnsTheSameRecordEveryTime) {
  PluginRegistry registry = PluginRegistry::OnSearchPath({CAIRN_VARIANT_DIR});
  StatusOr<const PluginRecord*> first = registry.Find(PluginKind::kSandbox, "variant-good");
  StatusOr<const PluginRecord*> second = registry.Find(PluginKind::kSandbox, "variant-good");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
}

TEST(PluginLookupTest, AnEarlierFileOfAnyNameShadowsALaterFileNamedForThePlugin) {
  TempDir early;
  TempDir late;
  std::string winner = CopyAs(early, Variant("good"), "good.so");
  CopyAs(late, Variant("good"), "cairn-variant-good.so");
  PluginRegistry registry = PluginRegistry::OnSearchPath({early.path(), late.path()});
  StatusOr<const PluginRecord*> found = registry.Find(PluginKind::kSandbox, "variant-good");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ((*found)->path, winner);
}

TEST(PluginLookupTest, AnEarlierFileNamedForThePluginShadowsALaterOne) {
  TempDir early;
  TempDir late;
  std::string winner = CopyAs(early, Variant("good"), "cairn-variant-good.so");
  CopyAs(late, Variant("good"), "a.so");
  PluginRegistry registry = PluginRegistry::OnSearchPath({early.path(), late.path()});
  StatusOr<const PluginRecord*> found = registry.Find(PluginKind::kSandbox, "variant-good");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ((*found)->path, winner);
}

TEST(PluginLookupTest, AFileNamedForAnotherPluginIsDisabledAndSkipped) {
  TempDir dir;
  std::string liar = CopyAs(dir, Variant("good"), "cairn-other.so");
  PluginRecord record = PluginRegistry::Inspect(liar);
  EXPECT_FALSE(record.loaded);
  EXPECT_NE(record.reason.find("its file name promises a plugin named 'other', but its "
                               "descriptor names 'variant-good'"),
            std::string::npos)
      << record.reason;
  PluginRegistry registry = PluginRegistry::OnSearchPath({dir.path(), CAIRN_VARIANT_DIR});
  StatusOr<const PluginRecord*> found = registry.Find(PluginKind::kSandbox, "variant-good");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ((*found)->path, Variant("good"));
}

TEST(PluginLookupTest, ADisabledPluginIsReportedWithItsReason) {
  PluginRegistry registry = PluginRegistry::OnSearchPath({CAIRN_CRASHING_DIR, CAIRN_VARIANT_DIR});
  StatusOr<const PluginRecord*> found =
      registry.Find(PluginKind::kSandbox, "variant-null-callback");
  EXPECT_EQ(found.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(found.status().message().find(Variant("null-callback")), std::string::npos);
  EXPECT_NE(found.status().message().find("'execute' is NULL"), std::string::npos);
}

TEST(PluginLookupTest, NotFoundListsWhatLoadsAndEachDirectoryOnce) {
  std::string dir = CAIRN_VARIANT_DIR;
  PluginRegistry registry = PluginRegistry::OnSearchPath({dir, dir + "/", dir + "/.", dir});
  StatusOr<const PluginRecord*> found = registry.Find(PluginKind::kSandbox, "nonesuch");
  ASSERT_EQ(found.status().code(), Code::kNotFound);
  const std::string& message = found.status().message();
  EXPECT_NE(message.find("variant-good"), std::string::npos) << message;
  EXPECT_NE(message.find("searched: " + dir + ")"), std::string::npos) << message;
  EXPECT_EQ(registry.search_paths(), std::vector<std::string>{dir});
}

TEST(PluginLookupTest, SurveyListsCrashingLibrariesAsDisabledAndTheRestAsTheyAre) {
  PluginRegistry registry = PluginRegistry::OnSearchPath({CAIRN_CRASHING_DIR});
  std::vector<PluginRecord> records = registry.Survey();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].path, Crashing("crash-in-constructor"));
  EXPECT_EQ(records[0].reason, "crashed with SIGABRT while loading");
  EXPECT_EQ(records[1].name, "variant-crash-in-create");
  EXPECT_TRUE(records[1].loaded);
  EXPECT_EQ(records[2].reason, "crashed with SIGSEGV while loading");
}

TEST(PluginLookupTest, SurveyAppliesTheShadowingRule) {
  PluginRegistry registry = PluginRegistry::OnSearchPath({Variant("good"), CAIRN_VARIANT_DIR});
  int loaded = 0;
  for (const PluginRecord& record : registry.Survey()) {
    if (record.name != "variant-good") continue;
    if (record.loaded) {
      ++loaded;
    } else {
      EXPECT_NE(record.reason.find("shadowed by " + Variant("good")), std::string::npos);
    }
  }
  EXPECT_EQ(loaded, 1);
}

}  // namespace
}  // namespace cairn
