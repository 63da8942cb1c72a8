// CaptureOutputs and LocateOutput on real files with an in-memory CAS: each
// output is read from the host directory that holds it (the working
// directory's copy, or an output directory's own copy), and never through
// a symlink a command left on the way.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "cairn/sandbox_common/file_tree.h"
#include "cairn/sandbox_common/output_capture.h"
#include "cairn/testing/in_memory_storage.h"

namespace cairn {
namespace {

TEST(LocateOutputTest, TheLongestCoveringPrefixWins) {
  std::vector<OutputHostDir> dirs = {{"a", "/copy/a"}, {"a/b/c", "/copy/abc"}, {"ab", "/copy/ab"}};
  auto at = [&](const std::string& output) {
    std::optional<OutputLocation> location = LocateOutput(dirs, output);
    return location ? location->base + " " + location->relative : std::string("none");
  };
  EXPECT_EQ(at("a"), "/copy/a ");
  EXPECT_EQ(at("a/b"), "/copy/a b");
  EXPECT_EQ(at("a/b/c"), "/copy/abc ");
  EXPECT_EQ(at("a/b/c/d/e"), "/copy/abc d/e");
  EXPECT_EQ(at("ab/x"), "/copy/ab x");
  EXPECT_EQ(at("a-b"), "none") << "a prefix of the name is not a parent";
  EXPECT_EQ(at("b"), "none");
  dirs.push_back({"", "/work"});
  EXPECT_EQ(at("b/c"), "/work b/c");
}

class OutputCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cairn-output-capture-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    base_ = pattern;
    ASSERT_TRUE(MakeDirectoriesBelow(base_, "install/usr/bin").ok());
    ASSERT_TRUE(MakeDirectoriesBelow(base_, "build/elem").ok());
    ASSERT_TRUE(MakeDirectoriesBelow(base_, "outside").ok());
    std::ofstream(base_ + "/install/usr/bin/tool") << "tool\n";
    std::ofstream(base_ + "/build/elem/log") << "log\n";
    std::ofstream(base_ + "/outside/secret") << "secret\n";
  }
  void TearDown() override { (void)RemoveTree(base_); }

  std::string base_;
  testing::InMemoryStorage cas_;
};

TEST_F(OutputCaptureTest, EachOutputIsReadFromItsOwnHostDirectory) {
  std::vector<OutputHostDir> dirs = {{"buildstream-install", base_ + "/install"},
                                     {"buildstream/proj/elem.bst", base_ + "/build/elem"}};
  ActionResult result;
  Status captured =
      CaptureOutputs(cas_, dirs,
                     {"buildstream-install", "buildstream-install/usr/bin/tool",
                      "buildstream/proj/elem.bst/log", "buildstream/proj/elem.bst/absent"},
                     &result);
  ASSERT_TRUE(captured.ok()) << captured.ToString();
  ASSERT_EQ(result.output_directories_size(), 1);
  EXPECT_EQ(result.output_directories(0).path(), "buildstream-install");
  ASSERT_EQ(result.output_files_size(), 2);
  EXPECT_EQ(result.output_files(0).path(), "buildstream-install/usr/bin/tool");
  EXPECT_EQ(*cas_.ReadBlob(result.output_files(0).digest()), "tool\n");
  EXPECT_EQ(*cas_.ReadBlob(result.output_files(1).digest()), "log\n");
}

TEST_F(OutputCaptureTest, AParentReplacedByASymlinkIsRefusedBelowAnOutputDirectory) {
  ASSERT_EQ(symlink((base_ + "/outside").c_str(), (base_ + "/install/usr/lib").c_str()), 0);
  std::vector<OutputHostDir> dirs = {{"buildstream-install", base_ + "/install"}};
  ActionResult result;
  Status captured = CaptureOutputs(cas_, dirs, {"buildstream-install/usr/lib/secret"}, &result);
  EXPECT_EQ(captured.code(), Code::kInvalidArgument);
  EXPECT_NE(captured.message().find("output path buildstream-install/usr/lib/secret"),
            std::string::npos)
      << captured.message();
  EXPECT_EQ(result.output_files_size(), 0);
}

TEST_F(OutputCaptureTest, AnOutputNoHostDirectoryHoldsIsAnInternalError) {
  std::vector<OutputHostDir> dirs = {{"buildstream-install", base_ + "/install"}};
  ActionResult result;
  EXPECT_EQ(CaptureOutputs(cas_, dirs, {"elsewhere"}, &result).code(), Code::kInternal);
}

}  // namespace
}  // namespace cairn
