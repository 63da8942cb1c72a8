// Unit tests of cairn_sandbox_common's pure logic (no root, no plugins).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "cairn/plugin.h"
#include "cairn/relative_path.h"
#include "cairn/sandbox_common/command_resolver.h"
#include "cairn/sandbox_common/file_tree.h"
#include "cairn/sandbox_common/platform_requirements.h"

namespace cairn {
namespace {

TEST(RelativePathTest, AcceptsNormalizedRelativePaths) {
  EXPECT_TRUE(ValidateRelativePath("a/b/c", "p", false).ok());
  EXPECT_TRUE(ValidateRelativePath("", "p", true).ok());
}

TEST(RelativePathTest, RefusesAbsoluteDottedAndEmptyComponentsNamingThePath) {
  for (const char* bad : {"/a", "a/", "a//b", "./a", "a/../b", "..", ""}) {
    Status status = ValidateRelativePath(bad, "output path", false);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find(std::string("output path '") + bad + "'"), std::string::npos)
        << status.message();
  }
}

Platform MakePlatform(const std::vector<std::pair<std::string, std::string>>& properties) {
  Platform platform;
  for (const auto& [name, value] : properties) {
    auto* property = platform.add_properties();
    property->set_name(name);
    property->set_value(value);
  }
  return platform;
}

TEST(PlatformRequirementsTest, HonoursMatchingOsIsaUidGidAndNetwork) {
  SandboxCapabilities capabilities =
      LocalCapabilities(CAIRN_SANDBOX_UID_GID | CAIRN_SANDBOX_NETWORK);
  auto requirements = CheckPlatform(MakePlatform({{"OSFamily", "Linux"},
                                                  {"ISA", HostIsa()},
                                                  {"unixUID", "1000"},
                                                  {"unixGID", "100"},
                                                  {"network", "on"}}),
                                    capabilities, "test");
  ASSERT_TRUE(requirements.ok()) << requirements.status().ToString();
  EXPECT_EQ(requirements->uid, 1000u);
  EXPECT_EQ(requirements->gid, 100u);
  EXPECT_TRUE(requirements->network);
}

TEST(PlatformRequirementsTest, RefusesWhatCannotBeHonouredNamingTheProperty) {
  SandboxCapabilities without_flags = LocalCapabilities(0);
  struct Case {
    std::pair<std::string, std::string> property;
    std::string named;
  };
  for (const Case& c : std::vector<Case>{{{"unixUID", "1"}, "unixUID"},
                                         {{"network", "on"}, "network"},
                                         {{"network", "maybe"}, "network"},
                                         {{"ISA", "sparc"}, "ISA"},
                                         {{"container-image", "x"}, "container-image"}}) {
    auto requirements = CheckPlatform(MakePlatform({c.property}), without_flags, "test");
    ASSERT_FALSE(requirements.ok()) << c.named;
    EXPECT_EQ(requirements.status().code(), Code::kInvalidArgument);
    EXPECT_NE(requirements.status().message().find(c.named), std::string::npos)
        << requirements.status().message();
  }
}

class CommandResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cairn-resolver-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    ASSERT_TRUE(MakeDirectoriesBelow(root_, "usr/bin").ok());
    ASSERT_TRUE(MakeDirectoriesBelow(root_, "build").ok());
    std::ofstream(root_ + "/usr/bin/tool") << "#!/bin/sh\n";
    chmod((root_ + "/usr/bin/tool").c_str(), 0755);
    std::ofstream(root_ + "/usr/bin/data") << "not executable\n";
    // An absolute symlink must resolve inside the root, not on the host.
    ASSERT_EQ(symlink("/usr/bin", (root_ + "/bin").c_str()), 0);
  }
  void TearDown() override { (void)RemoveTree(root_); }

  ActionSpec Spec(std::string program, std::string path) {
    ActionSpec spec;
    spec.arguments = {std::move(program)};
    if (!path.empty()) spec.environment = {{"PATH", path}};
    spec.working_directory = "build";
    return spec;
  }
  std::string root_;
};

TEST_F(CommandResolverTest, FindsABareNameInTheCommandsPathThroughRootRelativeSymlinks) {
  auto found = ResolveProgram(root_, Spec("tool", "/nowhere:/bin"));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, "/bin/tool");
}

TEST_F(CommandResolverTest, ReportsAMissingOrNonExecutableCommandWithThePathSearched) {
  auto missing = ResolveProgram(root_, Spec("cc", "/bin:/usr/bin"));
  EXPECT_EQ(missing.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("'cc' was not found in the input root (searched the "
                                            "Command's PATH=/bin:/usr/bin)"),
            std::string::npos)
      << missing.status().message();
  EXPECT_FALSE(ResolveProgram(root_, Spec("data", "/usr/bin")).ok());
}

TEST_F(CommandResolverTest, ResolvesRelativePathsFromTheWorkingDirectory) {
  auto found = ResolveProgram(root_, Spec("../usr/bin/tool", ""));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, "/build/../usr/bin/tool");
  EXPECT_FALSE(ResolveProgram(root_, Spec("../../../../usr/bin/data", "")).ok());
}

TEST_F(CommandResolverTest, NeverLeavesTheRootThroughDotDot) {
  auto host = ResolveInRoot(root_, "/../../../../bin/tool", "/");
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  EXPECT_EQ(*host, root_ + "/usr/bin/tool");
}

TEST(FileTreeTest, CopiesATreeAsPrivateFilesKeepingSymlinksAndDirectoryModes) {
  char pattern[] = "/tmp/cairn-file-tree-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string base = pattern;
  ASSERT_TRUE(MakeDirectoriesBelow(base, "store").ok());
  ASSERT_TRUE(MakeDirectoriesBelow(base, "shared/sub").ok());
  std::ofstream(base + "/store/object") << "original";
  chmod((base + "/store/object").c_str(), 0555);
  ASSERT_EQ(link((base + "/store/object").c_str(), (base + "/shared/sub/file").c_str()), 0);
  ASSERT_EQ(symlink("../elsewhere", (base + "/shared/sub/link").c_str()), 0);
  chmod((base + "/shared/sub").c_str(), 0550);

  ASSERT_TRUE(CopyTree(base + "/shared", base + "/work").ok());
  struct stat object {
  }, copy{}, directory{};
  stat((base + "/store/object").c_str(), &object);
  stat((base + "/work/sub/file").c_str(), &copy);
  stat((base + "/work/sub").c_str(), &directory);
  EXPECT_NE(object.st_ino, copy.st_ino);
  EXPECT_EQ(copy.st_mode & 07777, 0755u);
  EXPECT_EQ(copy.st_mtim.tv_sec, object.st_mtim.tv_sec);
  EXPECT_EQ(object.st_nlink, 2u) << "the original keeps its links";
  EXPECT_EQ(directory.st_mode & 07777, 0550u);
  char target[64] = {};
  ASSERT_GT(readlink((base + "/work/sub/link").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "../elsewhere");
  EXPECT_FALSE(CopyTree(base + "/shared", base + "/work").ok()) << "the target must not exist";
  EXPECT_TRUE(RemoveTree(base).ok());
  EXPECT_NE(access(base.c_str(), F_OK), 0);
}

// A chain `depth` directories deep below `base`/`name`, "bottom" at the end.
void MakeChain(const std::string& base, const std::string& name, int depth) {
  int fd = open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (int level = 0; level < depth && fd >= 0; ++level) {
    const char* component = level == 0 ? name.c_str() : "d";
    mkdirat(fd, component, 0755);
    int child = openat(fd, component, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (level % 7 == 3) fchmod(fd, 0500);  // some read-only levels too
    close(fd);
    fd = child;
  }
  if (fd < 0) return;
  int file = openat(fd, "bottom", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (file >= 0) close(file);
  close(fd);
}

// How deep the chain at `path` goes, and whether "bottom" is at its end.
int ChainDepth(const std::string& path, bool* has_bottom) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int depth = fd >= 0 ? 1 : 0;
  while (fd >= 0) {
    int child = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (child < 0) {
      *has_bottom = faccessat(fd, "bottom", F_OK, 0) == 0;
      close(fd);
      break;
    }
    close(fd);
    fd = child;
    ++depth;
  }
  return depth;
}

TEST(FileTreeTest, DeepTreesAreCopiedChownedAndRemovedWithinAFewDescriptors) {
  char pattern[] = "/tmp/cairn-file-tree-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string base = pattern;
  constexpr int kDepth = 3000;
  MakeChain(base, "chain", kDepth);
  struct rlimit saved {};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  struct rlimit few = {32, saved.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &few), 0);
  Status copied = CopyTree(base + "/chain", base + "/copy");
  Status chowned = ChownTree(base + "/copy", getuid(), getgid());
  Status removed_copy = RemoveTree(base + "/copy");
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_TRUE(copied.ok()) << copied.ToString();
  EXPECT_TRUE(chowned.ok()) << chowned.ToString();
  EXPECT_TRUE(removed_copy.ok()) << removed_copy.ToString();

  ASSERT_TRUE(CopyTree(base + "/chain", base + "/copy").ok());
  bool has_bottom = false;
  EXPECT_EQ(ChainDepth(base + "/copy", &has_bottom), kDepth);
  EXPECT_TRUE(has_bottom);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &few), 0);
  Status removed = RemoveTree(base);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_TRUE(removed.ok()) << removed.ToString();
  EXPECT_NE(access(base.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace cairn
