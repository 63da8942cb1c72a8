// Each element kind built for real: import, manual, stack, compose, script.
#include <gtest/gtest.h>

#include "build_project.h"

namespace cairn::build_test {
namespace {

using ElementKindsTest = BuildProjectTest;

TEST_F(ElementKindsTest, ImportPlacesTheSourceDirectoryItNamesAtItsTarget) {
  Write("files/tree/sub/deep/a.txt", "a\n");
  Write("files/tree/left-out.txt", "not imported\n");
  Write("elements/placed.bst",
        "kind: import\n"
        "sources:\n"
        "- kind: local\n"
        "  path: files/tree\n"
        "config:\n"
        "  source: /sub\n"
        "  target: /opt/placed\n");
  CliRun built = Cairn({"build", "placed.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  CliRun listed = Cairn({"artifact", "list-contents", "placed.bst"});
  EXPECT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(listed.out, "opt/\nopt/placed/\nopt/placed/deep/\nopt/placed/deep/a.txt\n");
}

TEST_F(ElementKindsTest, ManualRunsItsCommandsInOrderInTheSourcesAndKeepsOnlyTheInstallRoot) {
  Write("files/app/input.txt", "from the source\n");
  Write("elements/app.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "sources:\n"
        "- kind: local\n"
        "  path: files/app\n"
        "config:\n"
        "  configure-commands:\n"
        "  - echo configure > order.txt\n"
        "  build-commands:\n"
        "  - echo build >> order.txt\n"
        "  - cat input.txt >> order.txt\n"
        "  install-commands:\n"
        "  - echo install >> order.txt\n"
        "  - mkdir -p %{install-root}%{bindir}\n"
        "  - cp order.txt %{install-root}%{bindir}/order.txt\n"
        "  - echo '%{install-root}' > %{install-root}/install-root.txt\n");
  CliRun built = Cairn({"build", "app.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(Events(built, "SUCCESS"), Names({"base.bst", "app.bst"}));
  CliRun listed = Cairn({"artifact", "list-contents", "app.bst"});
  EXPECT_EQ(listed.out, "install-root.txt\nusr/\nusr/bin/\nusr/bin/order.txt\n");
  std::string checkout = Checkout("app.bst", {"--deps", "none"});
  EXPECT_EQ(ReadFile(checkout + "/usr/bin/order.txt"),
            "configure\nbuild\nfrom the source\ninstall\n");
  EXPECT_EQ(ReadFile(checkout + "/install-root.txt"), "/buildstream-install\n");
}

TEST_F(ElementKindsTest, StackHasNoFilesButBringsItsDependenciesIntoTheCheckout) {
  Write("files/one/one.txt", "1\n");
  Write("files/two/two.txt", "2\n");
  Write("elements/one.bst", "kind: import\nsources:\n- kind: local\n  path: files/one\n");
  Write("elements/two.bst", "kind: import\nsources:\n- kind: local\n  path: files/two\n");
  Write("elements/both.bst", "kind: stack\ndepends:\n- one.bst\n- two.bst\n");
  CliRun built = Cairn({"build", "both.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  CliRun listed = Cairn({"artifact", "list-contents", "both.bst"});
  EXPECT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(listed.out, "");
  std::string checkout = Checkout("both.bst");
  EXPECT_EQ(ReadFile(checkout + "/one.txt"), "1\n");
  EXPECT_EQ(ReadFile(checkout + "/two.txt"), "2\n");
}

// lib.bst installs one file per domain: a runtime program, a devel header,
// a document in its own `docs` domain and an orphan no rule claims; its
// integration command creates /opt/added.
class ComposeTest : public BuildProjectTest {
 protected:
  void SetUp() override {
    BuildProjectTest::SetUp();
    if (IsSkipped()) return;
    Write("elements/lib.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}%{bindir} %{install-root}%{includedir}\n"
          "  - mkdir -p %{install-root}%{docdir} %{install-root}/opt\n"
          "  - echo tool > %{install-root}%{bindir}/tool\n"
          "  - echo header > %{install-root}%{includedir}/lib.h\n"
          "  - echo doc > %{install-root}%{docdir}/README\n"
          "  - echo orphan > %{install-root}/opt/orphan\n"
          "public:\n"
          "  bst:\n"
          "    integration-commands:\n"
          "    - echo integrated > /opt/added\n"
          "    split-rules:\n"
          "      docs:\n"
          "      - '%{docdir}/**'\n");
  }

  // The files of a compose element of base.bst and lib.bst with `config`.
  std::string Compose(const std::string& config) {
    Write("elements/composed.bst",
          "kind: compose\n"
          "build-depends:\n"
          "- base.bst\n"
          "- lib.bst\n"
          "config:\n" +
              config);
    CliRun built = Cairn({"build", "composed.bst"});
    EXPECT_EQ(built.code, 0) << built.err;
    CliRun listed = Cairn({"artifact", "list-contents", "composed.bst"});
    EXPECT_EQ(listed.code, 0) << listed.err;
    return listed.out;
  }
};

TEST_F(ComposeTest, IncludeAndExcludeSelectFilesBySplitDomain) {
  std::string files = Compose(
      "  include: [runtime, devel, docs]\n"
      "  exclude: [docs]\n"
      "  include-orphans: False\n"
      "  integrate: False\n");
  EXPECT_EQ(files, "usr/\nusr/bin/\nusr/bin/tool\nusr/include/\nusr/include/lib.h\n");
}

TEST_F(ComposeTest, IncludeOrphansKeepsFilesThatNoSplitRuleClaims) {
  std::string files = Compose(
      "  exclude: [docs]\n"
      "  include-orphans: True\n"
      "  integrate: False\n");
  EXPECT_NE(files.find("opt/orphan\n"), std::string::npos) << files;
  EXPECT_NE(files.find("bin/busybox\n"), std::string::npos) << files;
  EXPECT_NE(files.find("usr/bin/tool\n"), std::string::npos) << files;
  EXPECT_EQ(files.find("README"), std::string::npos) << files;
  EXPECT_EQ(files.find("opt/added"), std::string::npos) << "not integrated: " << files;
}

// As BuildStream's compose does: what the integration commands add is part
// of the composition whatever the domains and orphans say.
TEST_F(ComposeTest, IntegrateRunsTheIntegrationCommandsAndKeepsTheFilesTheyAdd) {
  std::string files = Compose(
      "  include: [runtime]\n"
      "  include-orphans: False\n"
      "  integrate: True\n");
  EXPECT_NE(files.find("usr/bin/tool\n"), std::string::npos) << files;
  EXPECT_EQ(files.find("opt/orphan"), std::string::npos) << files;
  EXPECT_NE(files.find("opt/added\n"), std::string::npos) << files;
}

TEST_F(ComposeTest, IntegratedFilesHaveTheContentTheCommandsWrote) {
  Compose("  integrate: True\n");
  std::string checkout = Checkout("composed.bst", {"--deps", "none", "--no-integrate"});
  EXPECT_EQ(ReadFile(checkout + "/opt/added"), "integrated\n");
}

// bst lists empty directories in an artifact's manifest and splits them
// like files (element.py, Element._compute_split / utils.list_relative_paths).
TEST_F(ComposeTest, EmptyDirectoriesAreSelectedByTheirDomainsLikeFiles) {
  Write("elements/empty-dirs.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}/var/empty %{install-root}%{bindir}/empty-bin\n"
        "  - mkdir -p %{install-root}/opt\n"
        "  - echo file > %{install-root}/opt/file\n");
  Write("elements/all-of-it.bst",
        "kind: compose\n"
        "build-depends:\n"
        "- empty-dirs.bst\n"
        "config:\n"
        "  include-orphans: True\n");
  Write("elements/runtime-of-it.bst",
        "kind: compose\n"
        "build-depends:\n"
        "- empty-dirs.bst\n"
        "config:\n"
        "  include: [runtime]\n"
        "  include-orphans: False\n");
  CliRun built = Cairn({"build", "all-of-it.bst", "runtime-of-it.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(Cairn({"artifact", "list-contents", "all-of-it.bst"}).out,
            "opt/\nopt/file\nusr/\nusr/bin/\nusr/bin/empty-bin/\nvar/\nvar/empty/\n");
  EXPECT_EQ(Cairn({"artifact", "list-contents", "runtime-of-it.bst"}).out,
            "usr/\nusr/bin/\nusr/bin/empty-bin/\n");
}

TEST_F(ElementKindsTest, ScriptStagesItsLayoutAndRunsItsCommandsInCwd) {
  Write("files/data/data.txt", "data\n");
  Write("elements/data.bst", "kind: import\nsources:\n- kind: local\n  path: files/data\n");
  Write("elements/tools.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}/etc\n"
        "  - echo tools > %{install-root}/etc/tools\n"
        "public:\n"
        "  bst:\n"
        "    integration-commands:\n"
        "    - echo ran > /etc/integrated\n");
  Write("elements/report.bst",
        "kind: script\n"
        "build-depends:\n"
        "- base.bst\n"
        "- tools.bst\n"
        "- data.bst\n"
        "variables:\n"
        "  cwd: /work\n"
        "config:\n"
        "  layout:\n"
        "  - element: base.bst\n"
        "    destination: /\n"
        "  - element: tools.bst\n"
        "    destination: /\n"
        "  - element: data.bst\n"
        "    destination: /srv/data\n"
        "  - element: ''\n"
        "    destination: /work\n"
        "  commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - pwd > %{install-root}/cwd.txt\n"
        "  - ls /srv/data > %{install-root}/data.txt\n"
        "  - cat /etc/tools /etc/integrated > %{install-root}/etc.txt\n"
        "  - test ! -e /data.txt\n");
  std::string checkout = BuildAndCheckOut("report.bst");
  EXPECT_EQ(ReadFile(checkout + "/cwd.txt"), "/work\n");
  EXPECT_EQ(ReadFile(checkout + "/data.txt"), "data.txt\n");
  EXPECT_EQ(ReadFile(checkout + "/etc.txt"), "tools\nran\n");
}

TEST_F(ElementKindsTest, ScriptWithoutLayoutStagesItsBuildDependenciesAtTheRoot) {
  Write("files/data/data.txt", "data\n");
  Write("elements/data.bst", "kind: import\nsources:\n- kind: local\n  path: files/data\n");
  Write("elements/plain.bst",
        "kind: script\n"
        "build-depends:\n"
        "- base.bst\n"
        "- data.bst\n"
        "config:\n"
        "  commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - cp /data.txt %{install-root}/copied.txt\n");
  std::string checkout = BuildAndCheckOut("plain.bst");
  EXPECT_EQ(ReadFile(checkout + "/copied.txt"), "data\n");
}

// bst's default %{build-root} is /buildstream/%{project-name}/%{element-name}.
TEST_F(ElementKindsTest, ManualCommandsRunInTheCommandSubdirOfTheDefaultBuildRoot) {
  Write("files/tree/sub/marker", "marker\n");
  Write("elements/subdir.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "sources:\n"
        "- kind: local\n"
        "  path: files/tree\n"
        "variables:\n"
        "  command-subdir: sub\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - pwd > %{install-root}/pwd.txt\n"
        "  - cat marker >> %{install-root}/pwd.txt\n");
  CliRun built = Cairn({"build", "subdir.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(ReadFile(Checkout("subdir.bst", {"--deps", "none"}) + "/pwd.txt"),
            "/buildstream/test/subdir.bst/sub\nmarker\n");
}

TEST_F(ElementKindsTest, AScriptLayoutNamingAnElementThatIsNotABuildDependencyIsAnError) {
  Write("elements/other.bst", "kind: stack\n");
  std::string file = Write("elements/bad-layout.bst",
                           "kind: script\n"
                           "build-depends:\n"
                           "- base.bst\n"
                           "depends:\n"
                           "- filename: other.bst\n"
                           "  type: runtime\n"
                           "config:\n"
                           "  layout:\n"
                           "  - element: base.bst\n"
                           "    destination: /\n"
                           "  - element: other.bst\n"
                           "    destination: /other\n"
                           "  commands:\n"
                           "  - mkdir -p %{install-root}\n");
  CliRun built = Cairn({"build", "bad-layout.bst"});
  EXPECT_NE(built.code, 0);
  EXPECT_NE(
      built.err.find(file + ":11:14: layout names other.bst, which is not a build dependency"),
      std::string::npos)
      << built.err;
}

// bst runs a manual element's commands with SandboxFlags.ROOT_READ_ONLY
// (buildelement.py); only %{build-root} and %{install-root} are writable.
TEST_F(ElementKindsTest, ManualCommandsCannotWriteOutsideTheBuildAndInstallRoots) {
  Write("elements/intruder.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - echo intruder > /bin/intruder\n");
  CliRun built = Cairn({"build", "intruder.bst"});
  EXPECT_EQ(built.code, 1) << built.err;
  EXPECT_NE(built.err.find("install-commands[2] failed with exit code"), std::string::npos)
      << built.err;
}

// A script element's root is writable unless root-read-only says otherwise.
TEST_F(ElementKindsTest, ScriptCommandsMayWriteAnywhereInTheirRoot) {
  Write("elements/writer.bst",
        "kind: script\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  commands:\n"
        "  - mkdir -p /var/scratch %{install-root}\n"
        "  - echo scratch > /var/scratch/file\n"
        "  - cp /var/scratch/file %{install-root}/copied\n");
  CliRun built = Cairn({"build", "writer.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(ReadFile(Checkout("writer.bst", {"--deps", "none"}) + "/copied"), "scratch\n");
}

}  // namespace
}  // namespace cairn::build_test
