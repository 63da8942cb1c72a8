// The ActionValidator (cairn/action_validator.h) and the Directory rules it
// walks the input root with (cairn/directory_rules.h), against an in-memory
// store.
#include "cairn/action_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/status_details.h"
#include "cairn/testing/in_memory_storage.h"
#include "cairn/testing/tree_builder.h"

namespace cairn {
namespace {

using testing::DirectoryWith;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::InMemoryStorage;
using testing::StorageOp;
using testing::TreeBuilder;
using ::testing::UnorderedElementsAre;

class ActionValidatorTest : public ::testing::Test {
 protected:
  Action ActionFor(const Digest& root, const Command& command) {
    Action action;
    *action.mutable_command_digest() = *storage_.WriteMessage(command);
    *action.mutable_input_root_digest() = root;
    return action;
  }

  static Command Echo() {
    Command command;
    command.add_arguments("echo");
    command.add_output_paths("out");
    return command;
  }

  // A root Directory holding exactly `directory` under "sub", both stored.
  Digest RootAbove(const Directory& directory) {
    return *storage_.WriteMessage(DirectoryWith("sub", *storage_.WriteMessage(directory)));
  }

  // The status of validating a tree whose "sub" directory is `directory`.
  Status ValidateSub(const Directory& directory, bool allow_absolute_symlinks = true) {
    ActionValidatorOptions options;
    options.allow_absolute_symlinks = allow_absolute_symlinks;
    std::vector<Digest> missing;
    return ActionValidator(storage_, options)
        .ValidateTree(RootAbove(directory), "input_root", &missing);
  }

  // n directories nested below the root: d/d/d/...
  Digest Nested(size_t levels, const Digest& bottom) {
    Digest digest = bottom;
    for (size_t i = 0; i < levels; ++i) digest = *storage_.WriteMessage(DirectoryWith("d", digest));
    return digest;
  }

  InMemoryStorage storage_;
  TreeBuilder trees_{storage_};
};

TEST_F(ActionValidatorTest, AValidActionGivesItsCommandOutputsAndPlatform) {
  Digest root = trees_.Build({"bin/echo*=#!", "etc/motd=hi", "lib@=/usr/lib"});
  Action action = ActionFor(root, Echo());
  auto* property = action.mutable_platform()->add_properties();
  property->set_name("OSFamily");
  property->set_value("linux");
  StatusOr<ValidatedAction> valid = ActionValidator(storage_).Validate(action);
  ASSERT_TRUE(valid.ok()) << valid.status().ToString();
  EXPECT_EQ(valid->command.arguments(0), "echo");
  EXPECT_THAT(valid->output_paths, ElementsAre("out"));
  ASSERT_EQ(valid->platform.properties_size(), 1);
  EXPECT_EQ(valid->platform.properties(0).value(), "linux");
}

TEST_F(ActionValidatorTest, EveryMissingBlobIsListedAtOnceCommandDirectoriesAndFiles) {
  Digest kept = *storage_.WriteBlob("kept");
  Digest lost_file = DigestOfBytes("lost file");
  Digest other_lost_file = DigestOfBytes("another lost file");
  Digest lost_directory = DigestOfBytes("lost directory");
  Directory bin;
  for (const auto& [name, digest] : {std::make_pair("a", kept), std::make_pair("b", lost_file),
                                     std::make_pair("c", other_lost_file)}) {
    FileNode* file = bin.add_files();
    file->set_name(name);
    *file->mutable_digest() = digest;
  }
  Directory root;
  for (const auto& [name, digest] : {std::make_pair("bin", *storage_.WriteMessage(bin)),
                                     std::make_pair("lib", lost_directory)}) {
    DirectoryNode* child = root.add_directories();
    child->set_name(name);
    *child->mutable_digest() = digest;
  }
  Action action;
  Digest lost_command = DigestOfBytes("a Command nobody uploaded");
  *action.mutable_command_digest() = lost_command;
  *action.mutable_input_root_digest() = *storage_.WriteMessage(root);

  Status status = ActionValidator(storage_).Validate(action).status();
  EXPECT_EQ(status.code(), Code::kFailedPrecondition) << status.ToString();
  EXPECT_THAT(MissingBlobs(status),
              UnorderedElementsAre(lost_command, lost_directory, lost_file, other_lost_file));
  EXPECT_THAT(status.message(), HasSubstr("4 blob(s)"));
  EXPECT_THAT(status.message(), HasSubstr(DigestToString(lost_directory)));
}

TEST_F(ActionValidatorTest, AMissingInputRootIsListedEvenWhenTheCommandIsPresent) {
  Digest lost_root = DigestOfBytes("no such root");
  Status status = ActionValidator(storage_).Validate(ActionFor(lost_root, Echo())).status();
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_THAT(MissingBlobs(status), ElementsAre(lost_root));
}

TEST_F(ActionValidatorTest, AnInputRootKnownValidIsNotWalkedButTheCommandIsStillChecked) {
  ActionValidatorOptions known;
  known.input_root_known_valid = true;
  Digest absent_root = DigestOfBytes("a root staged on disk, not in this store");
  StatusOr<ValidatedAction> valid =
      ActionValidator(storage_, known).Validate(ActionFor(absent_root, Echo()));
  ASSERT_TRUE(valid.ok()) << valid.status().ToString();
  EXPECT_THAT(valid->output_paths, ElementsAre("out"));

  Command broken = Echo();
  broken.set_working_directory("../outside");
  Status status =
      ActionValidator(storage_, known).Validate(ActionFor(absent_root, broken)).status();
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  // Without the option, the same root is reported missing.
  EXPECT_EQ(ActionValidator(storage_).Validate(ActionFor(absent_root, Echo())).status().code(),
            Code::kFailedPrecondition);
}

TEST_F(ActionValidatorTest, ACommandBrokenRuleIsReportedBeforeTheTreeIsWalked) {
  Command command = Echo();
  command.set_working_directory("../outside");
  Action action = ActionFor(DigestOfBytes("never read"), command);
  Status status = ActionValidator(storage_).Validate(action).status();
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(BadRequestField(status), kFieldWorkingDirectory);
}

TEST_F(ActionValidatorTest, ABlobThatIsNotACommandIsBlamedOnTheCommandDigest) {
  Action action;
  *action.mutable_command_digest() = *storage_.WriteBlob(std::string("\xff\xff\xff", 3));
  *action.mutable_input_root_digest() = trees_.Build({});
  Status status = ActionValidator(storage_).Validate(action).status();
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(BadRequestField(status), kFieldCommandDigest);
}

TEST_F(ActionValidatorTest, AStoreFailureKeepsItsCodeInsteadOfCountingAsMissing) {
  Action action = ActionFor(trees_.Build({"a=1"}), Echo());
  storage_.FailNext(StorageOp::kReadBlob, 1, Unavailable("the store is restarting"));
  Status status = ActionValidator(storage_).Validate(action).status();
  EXPECT_EQ(status.code(), Code::kUnavailable);
  EXPECT_THAT(MissingBlobs(status), ElementsAre());
}

TEST_F(ActionValidatorTest, EveryInvalidNameIsRefusedAtItsDirectory) {
  for (std::string name : {std::string(""), std::string("."), std::string(".."), std::string("a/b"),
                           std::string("a\0b", 3)}) {
    Directory directory;
    FileNode* file = directory.add_files();
    file->set_name(name);
    *file->mutable_digest() = *storage_.WriteBlob("x");
    Status status = ValidateSub(directory);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << name;
    EXPECT_EQ(BadRequestField(status), "input_root/sub") << status.message();
    EXPECT_THAT(status.message(), HasSubstr("invalid name '"));
  }
}

TEST_F(ActionValidatorTest, UnsortedListsAndANameInTwoListsAreRefused) {
  Digest blob = *storage_.WriteBlob("x");
  Directory unsorted;
  for (const char* name : {"b", "a"}) {
    DirectoryNode* child = unsorted.add_directories();
    child->set_name(name);
    *child->mutable_digest() = *storage_.WriteMessage(Directory());
  }
  Status status = ValidateSub(unsorted);
  EXPECT_EQ(BadRequestField(status), "input_root/sub") << status.message();
  EXPECT_THAT(status.message(), HasSubstr("directories are not canonical"));

  Directory twice;
  FileNode* file = twice.add_files();
  file->set_name("x");
  *file->mutable_digest() = blob;
  SymlinkNode* link = twice.add_symlinks();
  link->set_name("x");
  link->set_target("y");
  status = ValidateSub(twice);
  EXPECT_EQ(BadRequestField(status), "input_root/sub/x") << status.message();
  EXPECT_THAT(status.message(), HasSubstr("duplicate name 'x'"));
}

TEST_F(ActionValidatorTest, AMalformedDigestIsRefusedNamingTheEntry) {
  Directory directory;
  FileNode* file = directory.add_files();
  file->set_name("tool");
  *file->mutable_digest() = MakeDigest("NOT-HEX", 4);
  Status status = ValidateSub(directory);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(BadRequestField(status), "input_root/sub/tool") << status.message();
}

TEST_F(ActionValidatorTest, SymlinkTargetsEmptyOrWithNulAreAlwaysRefused) {
  for (std::string target : {std::string(""), std::string("a\0b", 3)}) {
    Directory directory;
    SymlinkNode* link = directory.add_symlinks();
    link->set_name("link");
    link->set_target(target);
    Status status = ValidateSub(directory);
    EXPECT_EQ(BadRequestField(status), "input_root/sub/link") << status.message();
  }
}

TEST_F(ActionValidatorTest, AbsoluteSymlinksAreRefusedOnlyWhenTheFlagSaysSo) {
  Directory directory;
  SymlinkNode* link = directory.add_symlinks();
  link->set_name("libc.so");
  link->set_target("/lib/libc.so.6");
  EXPECT_TRUE(ValidateSub(directory, /*allow_absolute_symlinks=*/true).ok());
  Status refused = ValidateSub(directory, /*allow_absolute_symlinks=*/false);
  EXPECT_EQ(refused.code(), Code::kInvalidArgument);
  EXPECT_EQ(BadRequestField(refused), "input_root/sub/libc.so");
  EXPECT_THAT(refused.message(), HasSubstr("absolute"));

  link->set_target("../lib/libc.so.6");
  EXPECT_TRUE(ValidateSub(directory, /*allow_absolute_symlinks=*/false).ok())
      << "'..' in a target is allowed by the REAPI";
}

TEST_F(ActionValidatorTest, ATreeExactlyAtTheDepthLimitIsAcceptedAndOneDeeperIsRefused) {
  Digest empty = *storage_.WriteMessage(Directory());
  std::vector<Digest> missing;
  EXPECT_TRUE(ActionValidator(storage_)
                  .ValidateTree(Nested(kMaxTreeDepth, empty), "input_root", &missing)
                  .ok());
  Status deep = ActionValidator(storage_).ValidateTree(Nested(kMaxTreeDepth + 1, empty),
                                                       "input_root", &missing);
  EXPECT_EQ(deep.code(), Code::kInvalidArgument);
  EXPECT_THAT(deep.message(), HasSubstr("nests deeper than 1000 directories"));
  EXPECT_THAT(BadRequestField(deep), HasSubstr("input_root/d/d/d"));
  EXPECT_TRUE(missing.empty());
}

TEST_F(ActionValidatorTest, ASubtreeSharedAtTwoDepthsIsHeldToTheLimitAtTheDeeperOne) {
  // "x" is two levels deep; it appears at the top (fine) and again below
  // 999 levels (too deep). Checking each digest once would miss that.
  Digest x = Nested(2, *storage_.WriteMessage(Directory()));
  Digest deep_chain = Nested(kMaxTreeDepth - 1, x);
  Directory root;
  for (const auto& [name, digest] : {std::make_pair("a", deep_chain), std::make_pair("x", x)}) {
    DirectoryNode* child = root.add_directories();
    child->set_name(name);
    *child->mutable_digest() = digest;
  }
  std::vector<Digest> missing;
  Status status =
      ActionValidator(storage_).ValidateTree(*storage_.WriteMessage(root), "input_root", &missing);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("nests deeper"));
}

TEST_F(ActionValidatorTest, ASharedSubtreeIsReadOnce) {
  Digest shared = trees_.Build({"f=1", "g=2"});
  Directory root;
  for (const char* name : {"a", "b", "c"}) {
    DirectoryNode* child = root.add_directories();
    child->set_name(name);
    *child->mutable_digest() = shared;
  }
  Digest root_digest = *storage_.WriteMessage(root);
  storage_.ResetCounts();
  std::vector<Digest> missing;
  ASSERT_TRUE(ActionValidator(storage_).ValidateTree(root_digest, "input_root", &missing).ok());
  EXPECT_EQ(storage_.Count(StorageOp::kReadBlob), 2u) << "the root and the shared directory";
  EXPECT_EQ(storage_.Count(StorageOp::kFindMissing), 1u) << "all files in one call";
}

}  // namespace
}  // namespace cairn
