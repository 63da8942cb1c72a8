// `cairn artifact checkout|list-contents|delete|log` on built elements.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "build_project.h"

namespace cairn::build_test {
namespace {

// tool.bst installs a program, a relative and an absolute symlink, and an
// integration command; system.bst is base.bst and tool.bst at run time.
class ArtifactTest : public BuildProjectTest {
 protected:
  void SetUp() override {
    BuildProjectTest::SetUp();
    if (IsSkipped()) return;
    Write("elements/tool.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}%{bindir} %{install-root}%{datadir}\n"
          "  - echo tool > %{install-root}%{bindir}/tool\n"
          "  - ln -s tool %{install-root}%{bindir}/relative\n"
          "  - ln -s %{bindir}/tool %{install-root}%{datadir}/absolute\n"
          "public:\n"
          "  bst:\n"
          "    integration-commands:\n"
          "    - cat %{bindir}/tool > %{datadir}/integrated\n");
    Write("elements/system.bst", "kind: stack\ndepends:\n- base.bst\n- tool.bst\n");
    CliRun built = Cairn({"build", "system.bst"});
    ASSERT_EQ(built.code, 0) << built.err;
  }
};

TEST_F(ArtifactTest, ListContentsShowsFilesDirectoriesAndSymlinksMadeRelative) {
  CliRun listed = Cairn({"artifact", "list-contents", "tool.bst"});
  EXPECT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(listed.out,
            "usr/\n"
            "usr/bin/\n"
            "usr/bin/relative -> tool\n"
            "usr/bin/tool\n"
            "usr/share/\n"
            "usr/share/absolute -> ../bin/tool\n");
}

TEST_F(ArtifactTest, CheckoutRunsIntegrationCommandsOverTheRuntimeDependencies) {
  std::string checkout = Checkout("system.bst");
  EXPECT_EQ(ReadFile(checkout + "/usr/share/integrated"), "tool\n");
  EXPECT_EQ(ReadFile(checkout + "/usr/bin/tool"), "tool\n");
  EXPECT_TRUE(std::filesystem::exists(checkout + "/bin/busybox"));
  EXPECT_EQ(std::filesystem::read_symlink(checkout + "/usr/bin/relative"), "tool");
}

TEST_F(ArtifactTest, CheckoutWithNoIntegrateLeavesTheFilesAsBuilt) {
  std::string checkout = Checkout("system.bst", {"--no-integrate"});
  EXPECT_TRUE(std::filesystem::exists(checkout + "/usr/bin/tool"));
  EXPECT_FALSE(std::filesystem::exists(checkout + "/usr/share/integrated"));
}

TEST_F(ArtifactTest, CheckoutWithDepsNoneHasOnlyTheTargetsFiles) {
  std::string checkout = Checkout("tool.bst", {"--deps", "none", "--no-integrate"});
  EXPECT_TRUE(std::filesystem::exists(checkout + "/usr/bin/tool"));
  EXPECT_FALSE(std::filesystem::exists(checkout + "/bin"));
  std::string run = Checkout("tool.bst", {"--no-integrate"});
  EXPECT_FALSE(std::filesystem::exists(run + "/bin")) << "base.bst is a build dependency only";
}

TEST_F(ArtifactTest, CheckoutAsTarHoldsTheSameFiles) {
  std::string tar = base_ + "/system.tar";
  CliRun checkout = Cairn({"artifact", "checkout", "system.bst", "--tar", tar});
  ASSERT_EQ(checkout.code, 0) << checkout.err;
  std::string extracted = ScratchDir("extracted");
  ASSERT_EQ(Shell("tar -C " + extracted + " -xf " + tar), 0);
  EXPECT_EQ(ReadFile(extracted + "/usr/bin/tool"), "tool\n");
  EXPECT_EQ(ReadFile(extracted + "/usr/share/integrated"), "tool\n");
  EXPECT_EQ(std::filesystem::read_symlink(extracted + "/usr/share/absolute"), "../bin/tool");
  struct stat info {};
  ASSERT_EQ(stat((extracted + "/bin/busybox").c_str(), &info), 0);
  EXPECT_NE(info.st_mode & S_IXUSR, 0u) << "busybox keeps its executable bit";
}

TEST_F(ArtifactTest, CheckoutAsTarToStandardOutput) {
  CliRun checkout =
      Cairn({"artifact", "checkout", "tool.bst", "--deps", "none", "--no-integrate", "--tar", "-"});
  ASSERT_EQ(checkout.code, 0) << checkout.err;
  std::string tar = base_ + "/stdout.tar";
  std::ofstream(tar, std::ios::binary) << checkout.out;
  std::string extracted = ScratchDir("from-stdout");
  ASSERT_EQ(Shell("tar -C " + extracted + " -xf " + tar), 0);
  EXPECT_EQ(ReadFile(extracted + "/usr/bin/tool"), "tool\n");
}

TEST_F(ArtifactTest, CheckoutWithHardlinksSharesFilesWithTheStore) {
  struct stat info {};
  std::string linked = Checkout("tool.bst", {"--deps", "none", "--no-integrate", "--hardlinks"});
  ASSERT_EQ(stat((linked + "/usr/bin/tool").c_str(), &info), 0);
  EXPECT_GE(info.st_nlink, 2u);
  std::string copied = Checkout("tool.bst", {"--deps", "none", "--no-integrate"});
  ASSERT_EQ(stat((copied + "/usr/bin/tool").c_str(), &info), 0);
  EXPECT_EQ(info.st_nlink, 1u);
}

TEST_F(ArtifactTest, CheckoutIntoADirectoryThatIsNotEmptyIsRefused) {
  std::string directory = ScratchDir("full");
  Shell("echo keep > " + directory + "/keep");
  CliRun checkout = Cairn({"artifact", "checkout", "tool.bst", "--directory", directory});
  EXPECT_NE(checkout.code, 0);
  EXPECT_NE(checkout.err.find("is not empty"), std::string::npos) << checkout.err;
  EXPECT_FALSE(std::filesystem::exists(directory + "/usr"));
}

TEST_F(ArtifactTest, DeletedArtifactIsBuildableAgainAndOnlyItIsRebuilt) {
  CliRun deleted = Cairn({"artifact", "delete", "tool.bst"});
  EXPECT_EQ(deleted.code, 0) << deleted.err;
  std::map<std::string, std::string> states = States({"system.bst"});
  EXPECT_EQ(states["tool.bst"], "buildable");
  EXPECT_EQ(states["system.bst"], "cached");
  CliRun listed = Cairn({"artifact", "list-contents", "tool.bst"});
  EXPECT_NE(listed.code, 0);
  EXPECT_NE(listed.err.find("is not built"), std::string::npos) << listed.err;
  CliRun rebuilt = Cairn({"build", "system.bst"});
  EXPECT_EQ(rebuilt.code, 0) << rebuilt.err;
  EXPECT_EQ(Events(rebuilt, "START"), Names({"tool.bst"}));
}

TEST_F(ArtifactTest, ShellRunsACommandInTheIntegratedRuntimeAndExitsWithItsStatus) {
  CliRun shell =
      Cairn({"shell", "system.bst", "--", "sh", "-c", "cat /usr/share/integrated; pwd; exit 3"});
  EXPECT_EQ(shell.code, 3) << shell.err;
  EXPECT_EQ(shell.out, "tool\n/\n");
}

TEST_F(ArtifactTest, ShellBuildEntersTheBuildDirectoryWithTheSources) {
  Write("files/src/source.txt", "source\n");
  Write("elements/from-source.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- system.bst\n"
        "sources:\n"
        "- kind: local\n"
        "  path: files/src\n");
  CliRun shell = Cairn({"shell", "--build", "from-source.bst", "--", "sh", "-c",
                        "pwd; cat source.txt /usr/share/integrated"});
  EXPECT_EQ(shell.code, 0) << shell.err;
  EXPECT_EQ(shell.out, "/buildstream/test/from-source.bst\nsource\ntool\n");
}

TEST_F(ArtifactTest, LogOfABuiltElementHasItsCommands) {
  CliRun log = Cairn({"artifact", "log", "tool.bst"});
  EXPECT_EQ(log.code, 0) << log.err;
  EXPECT_NE(log.out.find("install-commands[2]: echo tool > /buildstream-install/usr/bin/tool"),
            std::string::npos)
      << log.out;
  EXPECT_NE(log.out.find("cairn: built tool.bst"), std::string::npos) << log.out;
}

}  // namespace
}  // namespace cairn::build_test
