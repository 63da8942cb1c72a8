#include "cairn/project/includes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cairn/project/composite.h"
#include "cairn/project/options.h"
#include "test_files.h"

namespace cairn::project {
namespace {

ConfigNode Parse(const std::string& text, const std::string& file = "element.bst") {
  StatusOr<ConfigNode> node = ConfigNode::Parse(text, file);
  EXPECT_TRUE(node.ok()) << node.status().message();
  return node.ok() ? std::move(node).value() : ConfigNode();
}

std::string Yaml(const std::string& text) { return Parse(text).ToYaml(); }

class IncluderTest : public ::testing::Test {
 protected:
  // `text` with its includes processed, as YAML with no positions.
  std::string Processed(const std::string& text) {
    ConfigNode node = Parse(text);
    Status status = includer_.Process(node);
    if (!status.ok()) return "error: " + status.message();
    return node.ToYaml();
  }
  std::string ProcessError(const std::string& text) {
    ConfigNode node = Parse(text);
    Status status = includer_.Process(node);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), Code::kInvalidArgument);
    return status.message();
  }

  TempDir project_;
  Includer includer_{project_.path()};
};

TEST_F(IncluderTest, IncludedMapIsTheBaseAndTheIncludingMapWins) {
  project_.Write("inc.yml", "a: from-include\nm: {x: 1, y: 1}\nonly: inc\n");
  EXPECT_EQ(Processed("(@): inc.yml\na: own\nm: {y: 2}\n"),
            Yaml("a: own\nm: {x: 1, y: 2}\nonly: inc\n"));
}

TEST_F(IncluderTest, LaterIncludesWinOverEarlierOnes) {
  project_.Write("one.yml", "a: 1\nb: 1\nc: 1\n");
  project_.Write("two.yml", "b: 2\nc: 2\n");
  EXPECT_EQ(Processed("(@): [one.yml, two.yml]\nc: 3\n"), Yaml("a: 1\nb: 2\nc: 3\n"));
}

TEST_F(IncluderTest, ListDirectivesOfTheIncludingFileApplyToIncludedLists) {
  project_.Write("inc.yml", "cmds: [b, c]\nother: [x]\n");
  EXPECT_EQ(Processed("(@): inc.yml\ncmds:\n  (<): [a]\n  (>): [d]\nother: {(=): [y]}\n"),
            Yaml("cmds: [a, b, c, d]\nother: [y]\n"));
}

TEST_F(IncluderTest, IncludedDirectivesAreKeptForTheLayerBelow) {
  project_.Write("inc.yml", "cmds: {(>): [from-include]}\n");
  ConfigNode element = Parse("(@): inc.yml\ncmds: {(>): [from-element]}\n");
  ASSERT_TRUE(includer_.Process(element).ok());
  // The element composited onto its plugin defaults, as the loader does.
  ConfigNode defaults = Parse("cmds: [default]\n", "defaults.yaml");
  ASSERT_TRUE(Composite(defaults, std::move(element)).ok());
  EXPECT_EQ(defaults.ToYaml(), Yaml("cmds: [default, from-include, from-element]\n"));
}

TEST_F(IncluderTest, PlainListInTheIncludingFileReplacesIncludedDirectives) {
  project_.Write("inc.yml", "cmds: {(>): [x]}\n");
  EXPECT_EQ(Processed("(@): inc.yml\ncmds: [own]\n"), Yaml("cmds: [own]\n"));
}

TEST_F(IncluderTest, IncludesNestAndAreRelativeToTheProjectDirectory) {
  project_.Write("include/outer.yml", "(@): include/inner.yml\nouter: 1\n");
  project_.Write("include/inner.yml", "inner: 1\nouter: 0\n");
  EXPECT_EQ(Processed("(@): include/outer.yml\n"), Yaml("inner: 1\nouter: 1\n"));
}

TEST_F(IncluderTest, IncludesInNestedMapsAndInMapsInsideLists) {
  project_.Write("vars.yml", "prefix: /usr\n");
  project_.Write("src.yml", "kind: git\nurl: x\n");
  EXPECT_EQ(Processed("variables:\n  (@): vars.yml\n  bindir: /bin\n"
                      "sources:\n- (@): src.yml\n  ref: abc\n"),
            Yaml("variables: {prefix: /usr, bindir: /bin}\n"
                 "sources:\n- {kind: git, url: x, ref: abc}\n"));
}

TEST_F(IncluderTest, ConditionalListsOfBothFilesAreKept) {
  project_.Write("inc.yml", "(?):\n- debug: {a: 1}\n");
  EXPECT_EQ(Processed("(@): inc.yml\n(?):\n- release: {a: 2}\n"),
            Yaml("(?):\n- debug: {a: 1}\n- release: {a: 2}\n"));
}

TEST_F(IncluderTest, OptionsProcessTheIncludedFilesConditionals) {
  OptionPool pool("x86_64");
  ASSERT_TRUE(pool.Declare(Parse("debug: {type: bool, description: d, default: true}\n")).ok());
  includer_.set_options(&pool);
  project_.Write("inc.yml", "cmds: [make]\n(?):\n- debug: {cmds: {(>): [check]}}\n");
  EXPECT_EQ(Processed("(@): inc.yml\ncmds: {(<): [configure]}\n"),
            Yaml("cmds: [configure, make, check]\n"));
}

TEST_F(IncluderTest, WithOptionsTheIncludingFileWinsOverIncludedConditionals) {
  OptionPool pool("x86_64");
  ASSERT_TRUE(pool.Declare(Parse("debug: {type: bool, description: d, default: true}\n")).ok());
  project_.Write("inc.yml", "(?):\n- debug: {x: from-include, y: from-include}\n");
  includer_.set_options(&pool);
  EXPECT_EQ(Processed("(@): inc.yml\nx: own\n"), Yaml("x: own\ny: from-include\n"));
}

TEST_F(IncluderTest, FilesAreReadOnceAndCopiedIntoEachUse) {
  project_.Write("inc.yml", "list: [a]\n");
  EXPECT_EQ(Processed("(@): inc.yml\nlist: {(>): [b]}\n"), Yaml("list: [a, b]\n"));
  // A change on disk is not seen: the file was read once.
  project_.Write("inc.yml", "list: [changed]\n");
  // And the first use did not change the cached copy.
  EXPECT_EQ(Processed("(@): inc.yml\n"), Yaml("list: [a]\n"));
  // A new Includer reads the file again.
  Includer fresh(project_.path());
  ConfigNode node = Parse("(@): inc.yml\n");
  ASSERT_TRUE(fresh.Process(node).ok());
  EXPECT_EQ(node.ToYaml(), Yaml("list: [changed]\n"));
}

TEST_F(IncluderTest, TheIncludingMapKeepsItsPosition) {
  project_.Write("inc.yml", "\n\nx: 1\n");
  ConfigNode node = Parse("k:\n  (@): inc.yml\n  y: 2\n");
  ASSERT_TRUE(includer_.Process(node).ok());
  EXPECT_EQ(node.Get("k")->location().ToString(), "element.bst:2:3");
  EXPECT_EQ(node.Get("k")->Get("x")->location().ToString(),
            (std::filesystem::path(project_.path()) / "inc.yml").string() + ":3:4");
}

TEST_F(IncluderTest, MissingFileIsAnErrorAtTheInclude) {
  project_.Write("ok.yml", "b: 1\n");
  EXPECT_EQ(ProcessError("a: 1\n(@): [ok.yml, missing.yml]\n"),
            "element.bst:2:15: cannot include 'missing.yml': no such file in the project "
            "directory");
}

TEST_F(IncluderTest, PathsLeavingTheProjectAreErrors) {
  EXPECT_EQ(ProcessError("(@): ../outside.yml\n"),
            "element.bst:1:6: cannot include '../outside.yml': it leads outside the project "
            "directory");
  EXPECT_EQ(ProcessError("(@): sub/../../outside.yml\n"),
            "element.bst:1:6: cannot include 'sub/../../outside.yml': it leads outside the "
            "project directory");
  EXPECT_EQ(ProcessError("(@): /etc/hostname\n"),
            "element.bst:1:6: cannot include '/etc/hostname': it leads outside the project "
            "directory");
  TempDir elsewhere;
  std::string target = elsewhere.Write("secret.yml", "a: 1\n");
  std::filesystem::create_symlink(target, std::filesystem::path(project_.path()) / "link.yml");
  std::string message = ProcessError("(@): link.yml\n");
  EXPECT_EQ(message.rfind("element.bst:1:6: cannot include 'link.yml': it leads outside the "
                          "project directory (to ",
                          0),
            0u)
      << message;
}

TEST_F(IncluderTest, CycleIsAnErrorListingTheChain) {
  project_.Write("a.yml", "(@): b.yml\n");
  project_.Write("b.yml", "x: 1\n(@): a.yml\n");
  std::string b = (std::filesystem::path(project_.path()) / "b.yml").string();
  EXPECT_EQ(ProcessError("(@): a.yml\n"), b + ":2:6: include cycle: a.yml -> b.yml -> a.yml");
  project_.Write("self.yml", "(@): self.yml\n");
  std::string self = (std::filesystem::path(project_.path()) / "self.yml").string();
  EXPECT_EQ(ProcessError("(@): self.yml\n"), self + ":1:6: include cycle: self.yml -> self.yml");
}

TEST_F(IncluderTest, SameFileTwiceWithoutCycleIsFine) {
  project_.Write("common.yml", "c: 1\n");
  project_.Write("a.yml", "(@): common.yml\na: 1\n");
  EXPECT_EQ(Processed("(@): [common.yml, a.yml]\nm:\n  (@): common.yml\n"),
            Yaml("c: 1\na: 1\nm: {c: 1}\n"));
}

TEST_F(IncluderTest, IncludedFileMustHoldAMap) {
  std::string list = project_.Write("list.yml", "- a\n");
  EXPECT_EQ(ProcessError("(@): list.yml\n"),
            list +
                ":1:1: an included file must hold a map (included as 'list.yml' at "
                "element.bst:1:6)");
  project_.Write("empty.yml", "# nothing\n");
  EXPECT_EQ(Processed("(@): empty.yml\na: 1\n"), Yaml("a: 1\n"));
}

TEST_F(IncluderTest, EmptyIncludeIncludesNothing) {
  EXPECT_EQ(Processed("a: 1\n(@):\nb: 2\n"), Yaml("a: 1\nb: 2\n"));
  EXPECT_EQ(Processed("a: 1\n(@): []\n"), Yaml("a: 1\n"));
}

TEST_F(IncluderTest, BadIncludeValuesAreErrors) {
  EXPECT_EQ(ProcessError("(@): {a: 1}\n"),
            "element.bst:1:6: '(@)' must be a file name or a list of file names");
  EXPECT_EQ(ProcessError("(@): [[a]]\n"), "element.bst:1:7: '(@)' must list file names");
  EXPECT_EQ(ProcessError("(@): junction.bst:inc.yml\n"),
            "element.bst:1:6: cannot include 'junction.bst:inc.yml': includes from junctions "
            "('junction:file') are not supported");
  project_.Write("dir/x.yml", "a: 1\n");
  EXPECT_EQ(ProcessError("(@): dir\n"), "element.bst:1:6: cannot include 'dir': it is a directory");
}

TEST_F(IncluderTest, YamlErrorsInIncludedFilesNameTheirPosition) {
  std::string bad = project_.Write("bad.yml", "a: [1\n");
  std::string message = ProcessError("(@): bad.yml\n");
  EXPECT_EQ(message.rfind(bad + ":", 0), 0u) << message;
}

TEST_F(IncluderTest, CompositionConflictsNameBothFiles) {
  std::string inc = project_.Write("inc.yml", "a: [x]\n");
  EXPECT_EQ(ProcessError("(@): inc.yml\na: scalar\n"),
            "element.bst:2:4: 'a': a scalar cannot replace the list at " + inc + ":1:4");
}

}  // namespace
}  // namespace cairn::project
