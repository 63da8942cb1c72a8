// StagedRoot against a real cas-local store: which runs share the read-only
// root and what each may write, for a working directory that is the root
// (BuildStream's element builds) and for one below it.
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/sandbox_common/staged_root.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

struct stat Lstat(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(lstat(path.c_str(), &info), 0) << path;
  return info;
}

class StagedRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    StatusOr<Digest> root = harness_.ImportBusyboxRoot({
        {"buildstream/proj/elem.bst/source.c", "int main;\n"},
        {"buildstream-install/", ""},
        {"etc/config", "config\n"},
        {"data/large", std::string(1 << 20, 'x')},
        {"tmp/", ""},
    });
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    root_ = *root;
  }

  std::unique_ptr<StagedRoot> Stage(StagingPlan plan) {
    auto staged =
        StagedRoot::Stage(harness_.cas(), harness_.scratch_dir(), "test-", plan, roots_, nullptr);
    EXPECT_TRUE(staged.ok()) << staged.status().ToString();
    return staged.ok() ? std::move(*staged) : nullptr;
  }
  StagingPlan AtRoot(std::vector<std::string> outputs) {
    StagingPlan plan;
    plan.input_root = root_;
    plan.working_directory = "";
    plan.output_paths = std::move(outputs);
    return plan;
  }

  SandboxHarness harness_;
  StagedRootCache roots_{harness_.scratch_dir(), "test-", 4, nullptr};
  Digest root_;
};

TEST_F(StagedRootTest, TheRootAsWorkingDirectorySharesTheRootAndCopiesOnlyTheOutputDirectories) {
  auto staged = Stage(AtRoot({"buildstream-install", "buildstream/proj/elem.bst"}));
  ASSERT_TRUE(staged);
  EXPECT_FALSE(staged->root_is_writable());
  std::string work = staged->scratch_dir() + "/work";
  ASSERT_THAT(staged->writable_mounts(),
              ElementsAre(Field(&WritableMount::inside, "/buildstream-install"),
                          Field(&WritableMount::inside, "/buildstream/proj/elem.bst")));
  EXPECT_EQ(staged->writable_mounts()[0].host_dir, work + "/buildstream-install");
  EXPECT_EQ(staged->writable_mounts()[1].host_dir, work + "/buildstream/proj/elem.bst");
  // No private copy of the root: the 1 MiB file is the store's, hardlinked.
  EXPECT_FALSE(Exists(staged->scratch_dir() + "/root"));
  EXPECT_GE(Lstat(staged->root_dir() + "/data/large").st_nlink, 2u);
  // The output's input content is in its private copy, not a link to it.
  std::string copied = staged->OutputHostPath("buildstream/proj/elem.bst") + "/source.c";
  EXPECT_EQ(Lstat(copied).st_nlink, 1u);
  EXPECT_NE(Lstat(copied).st_ino,
            Lstat(staged->root_dir() + "/buildstream/proj/elem.bst/source.c").st_ino);
  EXPECT_EQ(staged->OutputHostPath("buildstream-install"), work + "/buildstream-install");
}

TEST_F(StagedRootTest, AnOutputInsideAnotherIsWrittenThroughTheOuterCopy) {
  auto staged = Stage(AtRoot({"buildstream", "buildstream/proj/elem.bst"}));
  ASSERT_TRUE(staged);
  EXPECT_FALSE(staged->root_is_writable());
  EXPECT_THAT(staged->writable_mounts(),
              ElementsAre(Field(&WritableMount::inside, "/buildstream")));
  EXPECT_EQ(staged->OutputHostPath("buildstream/proj/elem.bst"),
            staged->scratch_dir() + "/work/buildstream/proj/elem.bst");
  EXPECT_TRUE(Exists(staged->OutputHostPath("buildstream/proj/elem.bst") + "/source.c"));
}

TEST_F(StagedRootTest, TheWholeRootIsAWritableCopyWhenAnOutputIsNotAnInputDirectory) {
  std::string linked = harness_.MakeBusyboxTree("linked", {{"real/out/", ""}});
  ASSERT_EQ(symlink("real", (linked + "/link").c_str()), 0);
  StatusOr<CapturedTree> with_link = harness_.cas().CaptureTree(linked, CaptureOptions{});
  ASSERT_TRUE(with_link.ok()) << with_link.status().ToString();

  struct Case {
    const char* why;
    Digest root;
    std::vector<std::string> outputs;
  };
  for (const Case& c : std::vector<Case>{
           {"missing", root_, {"buildstream-install", "missing/out"}},
           {"a file", root_, {"etc/config"}},
           {"under /tmp", root_, {"tmp"}},
           {"no outputs", root_, {}},
           {"a symlink to a directory", with_link->root, {"link"}},
       }) {
    StagingPlan plan = AtRoot(c.outputs);
    plan.input_root = c.root;
    auto staged = Stage(plan);
    ASSERT_TRUE(staged) << c.why;
    EXPECT_TRUE(staged->root_is_writable()) << c.why;
    EXPECT_TRUE(staged->writable_mounts().empty()) << c.why;
    EXPECT_EQ(staged->root_dir(), staged->scratch_dir() + "/root") << c.why;
    EXPECT_EQ(Lstat(staged->root_dir() + "/bin/busybox").st_nlink, 1u) << c.why;
    for (const std::string& output : c.outputs) {
      EXPECT_EQ(staged->OutputHostPath(output), staged->root_dir() + "/" + output) << c.why;
    }
  }
  // Below a symlink, staging refuses the output's parent as it always has.
  StagingPlan plan = AtRoot({"link/out"});
  plan.input_root = with_link->root;
  auto refused =
      StagedRoot::Stage(harness_.cas(), harness_.scratch_dir(), "test-", plan, roots_, nullptr);
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  // The link's target is a real directory: shared then.
  plan.output_paths = {"real/out"};
  auto staged = Stage(plan);
  ASSERT_TRUE(staged);
  EXPECT_FALSE(staged->root_is_writable());
}

TEST_F(StagedRootTest, AnInteractiveRunAtTheRootStillGetsAWritableCopy) {
  StagingPlan plan = AtRoot({"buildstream-install"});
  plan.writable_root = true;
  auto staged = Stage(plan);
  ASSERT_TRUE(staged);
  EXPECT_TRUE(staged->root_is_writable());
  EXPECT_TRUE(staged->writable_mounts().empty());
}

TEST_F(StagedRootTest, AWorkingDirectoryBelowTheRootIsOneMountHoldingTheOutputsParents) {
  StagingPlan plan;
  plan.input_root = root_;
  plan.working_directory = "buildstream/proj";
  plan.output_paths = {"out/file"};
  auto staged = Stage(plan);
  ASSERT_TRUE(staged);
  EXPECT_FALSE(staged->root_is_writable());
  std::string work = staged->scratch_dir() + "/work";
  ASSERT_EQ(staged->writable_mounts().size(), 1u);
  EXPECT_EQ(staged->writable_mounts()[0].host_dir, work);
  EXPECT_EQ(staged->writable_mounts()[0].inside, "/buildstream/proj");
  EXPECT_TRUE(Exists(work + "/elem.bst/source.c"));
  EXPECT_TRUE(Exists(work + "/out"));
  EXPECT_EQ(staged->OutputHostPath("out/file"), work + "/out/file");
}

TEST_F(StagedRootTest, EveryWritableMountIsHandedToTheOwner) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  StagingPlan plan = AtRoot({"buildstream-install", "buildstream/proj/elem.bst"});
  plan.owner_uid = 1234;
  plan.owner_gid = 4321;
  auto staged = Stage(plan);
  ASSERT_TRUE(staged);
  ASSERT_EQ(staged->writable_mounts().size(), 2u);
  for (const WritableMount& mount : staged->writable_mounts()) {
    EXPECT_EQ(Lstat(mount.host_dir).st_uid, 1234u) << mount.inside;
    EXPECT_EQ(Lstat(mount.host_dir).st_gid, 4321u) << mount.inside;
  }
  EXPECT_EQ(Lstat(staged->writable_mounts()[1].host_dir + "/source.c").st_uid, 1234u);
  EXPECT_EQ(Lstat(staged->root_dir() + "/etc/config").st_uid, 0u) << "the shared root is not";
}

}  // namespace
}  // namespace cairn::testing
