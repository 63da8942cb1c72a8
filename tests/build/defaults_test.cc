// What every project gets without asking: BuildStream's default
// environment and late-bound variables, element includes, files kept as
// built, and keys that do not depend on where the project is.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "build_project.h"

namespace cairn::build_test {
namespace {

using DefaultsTest = BuildProjectTest;

TEST_F(DefaultsTest, CommandsGetBuildStreamsDefaultEnvironment) {
  Write("elements/env.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - echo \"$PATH|$SHELL|$TERM|$USER|$LC_ALL|$HOME|$TZ|$SOURCE_DATE_EPOCH|$V\" "
        "> %{install-root}/env.txt\n"
        "  - echo \"$MAKEFLAGS\" > %{install-root}/makeflags.txt\n");
  std::string checkout = BuildAndCheckOut("env.bst");
  EXPECT_EQ(ReadFile(checkout + "/env.txt"),
            "/usr/bin:/bin:/usr/sbin:/sbin|/bin/sh|dumb|tomjon|C|/tmp|UTC|1320937200|1\n");
  EXPECT_EQ(ReadFile(checkout + "/makeflags.txt").rfind("-j", 0), 0u);
}

TEST_F(DefaultsTest, ProjectVariablesSeeTheElementsValuesOfWhatTheyReferTo) {
  Write("project.conf",
        "name: test\n"
        "element-path: elements\n"
        "variables:\n"
        "  tool-dir: '%{prefix}/lib/tool'\n");
  Write("elements/late.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "variables:\n"
        "  prefix: /opt/late\n"
        "environment:\n"
        "  TOOL_DIR: '%{tool-dir}'\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - echo \"%{tool-dir} $TOOL_DIR %{bindir}\" > %{install-root}/late.txt\n");
  CliRun built = Cairn({"build", "late.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(ReadFile(Checkout("late.bst", {"--deps", "none"}) + "/late.txt"),
            "/opt/late/lib/tool /opt/late/lib/tool /opt/late/bin\n");
}

TEST_F(DefaultsTest, AnElementIncludesAFileOfTheProject) {
  Write("include/words.yml", "variables:\n  word: included\n");
  Write("elements/includer.bst",
        "kind: manual\n"
        "(@): include/words.yml\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - echo %{word} > %{install-root}/word.txt\n");
  CliRun built = Cairn({"build", "includer.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(ReadFile(Checkout("includer.bst", {"--deps", "none"}) + "/word.txt"), "included\n");
}

TEST_F(DefaultsTest, EmptyDirectoriesAndExecutableBitsAreKeptInTheArtifact) {
  Write("elements/modes.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}%{bindir} %{install-root}/var/empty\n"
        "  - echo 'echo run' > %{install-root}%{bindir}/run\n"
        "  - chmod 0755 %{install-root}%{bindir}/run\n"
        "  - echo data > %{install-root}/data\n"
        "  - chmod 0644 %{install-root}/data\n");
  CliRun built = Cairn({"build", "modes.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  CliRun listed = Cairn({"artifact", "list-contents", "modes.bst"});
  EXPECT_NE(listed.out.find("var/empty/\n"), std::string::npos) << listed.out;
  std::string checkout = Checkout("modes.bst", {"--deps", "none"});
  EXPECT_TRUE(std::filesystem::is_directory(checkout + "/var/empty"));
  struct stat info {};
  ASSERT_EQ(stat((checkout + "/usr/bin/run").c_str(), &info), 0);
  EXPECT_NE(info.st_mode & S_IXUSR, 0u);
  ASSERT_EQ(stat((checkout + "/data").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & S_IXUSR, 0u);
}

// bst's bwrap sandbox runs the commands as the element's sandbox:
// build-uid and build-gid (_sandboxbwrap.py, --uid/--gid).
TEST_F(DefaultsTest, CommandsRunAsTheElementsBuildUidAndGid) {
  Write("elements/ids.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "sandbox:\n"
        "  build-uid: 1000\n"
        "  build-gid: 1001\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - echo \"$(busybox id -u) $(busybox id -g)\" > %{install-root}/ids.txt\n");
  CliRun built = Cairn({"build", "ids.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(ReadFile(Checkout("ids.bst", {"--deps", "none"}) + "/ids.txt"), "1000 1001\n");
}

TEST_F(DefaultsTest, AProjectMovedElsewhereHasTheSameKeysAndFindsItsArtifacts) {
  Write("files/data/data.txt", "data\n");
  Write("elements/data.bst", "kind: import\nsources:\n- kind: local\n  path: files/data\n");
  Write("elements/use.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "- data.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - cp /data.txt %{install-root}/\n");
  CliRun built = Cairn({"build", "use.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  std::map<std::string, std::string> keys = Keys({"use.bst"});
  std::string moved = base_ + "/moved/elsewhere";
  std::filesystem::create_directories(moved);
  std::filesystem::copy(
      project_, moved,
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  CliRun shown = CairnIn(moved, {"show", "--format", "%{name} %{full-key}", "use.bst"});
  EXPECT_EQ(shown.code, 0) << shown.err;
  std::string expected;
  for (const char* name : {"base.bst", "data.bst", "use.bst"}) {
    expected += std::string(name) + " " + keys[name] + "\n";
  }
  EXPECT_EQ(shown.out, expected);
  CliRun again = CairnIn(moved, {"build", "use.bst"});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(Events(again, "START"), Names());
}

}  // namespace
}  // namespace cairn::build_test
