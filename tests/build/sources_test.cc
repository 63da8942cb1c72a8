// Local and tar sources: what is staged, and where.
#include <gtest/gtest.h>

#include "build_project.h"

namespace cairn::build_test {
namespace {

using LocalSourceTest = BuildProjectTest;

TEST_F(LocalSourceTest, ADirectoryAndASingleFileAreStagedWhereTheirDirectorySays) {
  Write("files/tree/in-tree.txt", "tree\n");
  Write("files/single.txt", "single\n");
  Write("elements/staged.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "sources:\n"
        "- kind: local\n"
        "  path: files/tree\n"
        "- kind: local\n"
        "  path: files/single.txt\n"
        "  directory: sub/dir\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - cat in-tree.txt sub/dir/single.txt > %{install-root}/both.txt\n");
  std::string checkout = BuildAndCheckOut("staged.bst");
  EXPECT_EQ(ReadFile(checkout + "/both.txt"), "tree\nsingle\n");
}

TEST_F(LocalSourceTest, AMissingPathIsAnErrorNamingIt) {
  Write("elements/missing.bst",
        "kind: import\n"
        "sources:\n"
        "- kind: local\n"
        "  path: files/not-there\n");
  CliRun built = Cairn({"build", "missing.bst"});
  EXPECT_NE(built.code, 0);
  EXPECT_NE(built.err.find("files/not-there"), std::string::npos) << built.err;
  EXPECT_NE(built.err.find(PathOf("elements/missing.bst")), std::string::npos) << built.err;
}

TEST_F(LocalSourceTest, APathLeavingTheProjectIsAnErrorAtItsPlace) {
  std::string file = Write("elements/leaving.bst",
                           "kind: import\n"
                           "sources:\n"
                           "- kind: local\n"
                           "  path: ../elsewhere\n");
  CliRun shown = Cairn({"show", "leaving.bst"});
  EXPECT_EQ(shown.code, 3);
  EXPECT_NE(shown.err.find(file + ":4:9: path ../elsewhere leaves the project directory"),
            std::string::npos)
      << shown.err;
}

// files/pkg.tar.gz holds pkg-1.0/TOP and pkg-1.0/src/file.txt.
class TarSourceTest : public BuildProjectTest {
 protected:
  void SetUp() override {
    BuildProjectTest::SetUp();
    if (IsSkipped()) return;
    std::string staging = ScratchDir("tar-staging");
    ASSERT_EQ(Shell("mkdir -p " + staging + "/pkg-1.0/src && echo top > " + staging +
                    "/pkg-1.0/TOP && echo content > " + staging + "/pkg-1.0/src/file.txt"),
              0);
    archive_ = PathOf("files/pkg.tar.gz");
    ASSERT_EQ(Shell("mkdir -p " + PathOf("files") + " && tar -C " + staging + " -czf " + archive_ +
                    " pkg-1.0"),
              0);
    sha256_ = Sha256Of(archive_);
  }

  // An import of the archive at `url` with optional base-dir line(s).
  void WriteImport(const std::string& name, const std::string& url, const std::string& extra = "") {
    Write("elements/" + name,
          "kind: import\n"
          "sources:\n"
          "- kind: tar\n"
          "  url: " +
              url +
              "\n"
              "  ref: " +
              sha256_ + "\n" + extra);
  }

  std::string Contents(const std::string& name) {
    CliRun built = Cairn({"build", name});
    EXPECT_EQ(built.code, 0) << built.err;
    CliRun listed = Cairn({"artifact", "list-contents", name});
    EXPECT_EQ(listed.code, 0) << listed.err;
    return listed.out;
  }

  std::string archive_;
  std::string sha256_;
};

TEST_F(TarSourceTest, APathRelativeToTheProjectIsExtractedBelowItsOnlyTopDirectory) {
  WriteImport("by-path.bst", "files/pkg.tar.gz");
  EXPECT_EQ(Contents("by-path.bst"), "TOP\nsrc/\nsrc/file.txt\n");
}

TEST_F(TarSourceTest, AnAliasedUrlWithABaseDirTakesOnlyThatDirectory) {
  Write("project.conf",
        "name: test\n"
        "element-path: elements\n"
        "aliases:\n"
        "  upstream: file://" +
            PathOf("files") + "/\n");
  WriteImport("by-alias.bst", "upstream:pkg.tar.gz", "  base-dir: pkg-1.0/src\n");
  EXPECT_EQ(Contents("by-alias.bst"), "file.txt\n");
}

TEST_F(TarSourceTest, AFileUrlWithAnEmptyBaseDirKeepsTheWholeArchive) {
  WriteImport("by-url.bst", "file://" + archive_, "  base-dir: ''\n");
  EXPECT_EQ(Contents("by-url.bst"), "pkg-1.0/\npkg-1.0/TOP\npkg-1.0/src/\npkg-1.0/src/file.txt\n");
}

TEST_F(TarSourceTest, AManualElementBuildsInTheExtractedArchive) {
  Write("elements/from-tar.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "sources:\n"
        "- kind: tar\n"
        "  url: files/pkg.tar.gz\n"
        "  ref: " +
            sha256_ +
            "\n"
            "config:\n"
            "  install-commands:\n"
            "  - mkdir -p %{install-root}\n"
            "  - cat TOP src/file.txt > %{install-root}/out.txt\n");
  std::string checkout = BuildAndCheckOut("from-tar.bst");
  EXPECT_EQ(ReadFile(checkout + "/out.txt"), "top\ncontent\n");
}

TEST_F(TarSourceTest, AnArchiveWhoseHashIsNotTheRefIsRefusedNamingBoth) {
  std::string wrong(64, '0');
  Write("elements/wrong.bst",
        "kind: import\n"
        "sources:\n"
        "- kind: tar\n"
        "  url: files/pkg.tar.gz\n"
        "  ref: " +
            wrong + "\n");
  CliRun built = Cairn({"build", "wrong.bst"});
  EXPECT_NE(built.code, 0);
  EXPECT_NE(built.err.find(sha256_), std::string::npos) << built.err;
  EXPECT_NE(built.err.find(wrong), std::string::npos) << built.err;
}

TEST_F(TarSourceTest, TheRefIsTheSourcesPartOfTheKeyNotWhereTheArchiveIs) {
  WriteImport("moving.bst", "files/pkg.tar.gz");
  std::string before = Keys({"moving.bst"})["moving.bst"];
  ASSERT_EQ(Shell("mkdir -p " + PathOf("elsewhere") + " && cp " + archive_ + " " +
                  PathOf("elsewhere/pkg.tar.gz")),
            0);
  WriteImport("moving.bst", "elsewhere/pkg.tar.gz");
  EXPECT_EQ(Keys({"moving.bst"})["moving.bst"], before);
  WriteImport("moving.bst", "files/pkg.tar.gz", "  base-dir: pkg-1.0/src\n");
  EXPECT_NE(Keys({"moving.bst"})["moving.bst"], before);
}

}  // namespace
}  // namespace cairn::build_test
