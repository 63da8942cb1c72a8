// The REAPI rules for one Action and one Command (cairn/action_rules.h):
// every rejection names its field in a BadRequest.
#include "cairn/action_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "cairn/digest.h"
#include "cairn/status_details.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cairn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Command ValidCommand() {
  Command command;
  command.add_arguments("cc");
  command.add_arguments("-c");
  auto* home = command.add_environment_variables();
  home->set_name("HOME");
  home->set_value("/build");
  auto* path = command.add_environment_variables();
  path->set_name("PATH");
  path->set_value("/usr/bin");
  command.set_working_directory("src");
  command.add_output_paths("out/a.o");
  command.add_output_paths("out/b.o");
  return command;
}

Action ValidAction() {
  Action action;
  *action.mutable_command_digest() = DigestOfBytes("command");
  *action.mutable_input_root_digest() = DigestOfBytes("root");
  return action;
}

void AddProperty(Platform* platform, const std::string& name, const std::string& value) {
  auto* property = platform->add_properties();
  property->set_name(name);
  property->set_value(value);
}

struct CommandCase {
  const char* what;
  std::function<void(Command&)> change;
  const char* field;
  const char* says;
};

TEST(ValidateCommandMessage, AcceptsACanonicalCommandAndReturnsItsOutputs) {
  StatusOr<std::vector<std::string>> outputs = ValidateCommandMessage(ValidCommand());
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  EXPECT_THAT(*outputs, ElementsAre("out/a.o", "out/b.o"));
}

TEST(ValidateCommandMessage, RefusesEachBrokenRuleNamingTheField) {
  const std::vector<CommandCase> cases = {
      {"no arguments", [](Command& c) { c.clear_arguments(); }, kFieldArguments, "no arguments"},
      {"empty argv[0]", [](Command& c) { c.set_arguments(0, ""); }, kFieldArguments,
       "argv[0] is empty"},
      {"NUL in an argument", [](Command& c) { c.set_arguments(1, std::string("-\0c", 3)); },
       kFieldArguments, "NUL"},
      {"empty variable name", [](Command& c) { c.mutable_environment_variables(0)->set_name(""); },
       kFieldEnvironment, "empty name"},
      {"'=' in a name", [](Command& c) { c.mutable_environment_variables(0)->set_name("A=B"); },
       kFieldEnvironment, "contains '='"},
      {"NUL in a name",
       [](Command& c) { c.mutable_environment_variables(0)->set_name(std::string("A\0", 2)); },
       kFieldEnvironment, "NUL"},
      {"NUL in a value",
       [](Command& c) { c.mutable_environment_variables(0)->set_value(std::string("x\0", 2)); },
       kFieldEnvironment, "NUL"},
      {"unsorted environment",
       [](Command& c) { c.mutable_environment_variables()->SwapElements(0, 1); }, kFieldEnvironment,
       "'PATH' is not sorted before variable 'HOME'"},
      {"a variable twice", [](Command& c) { c.mutable_environment_variables(1)->set_name("HOME"); },
       kFieldEnvironment, "'HOME' is listed more than once"},
      {"absolute working directory", [](Command& c) { c.set_working_directory("/src"); },
       kFieldWorkingDirectory, "must be relative"},
      {"'..' in the working directory", [](Command& c) { c.set_working_directory("src/../.."); },
       kFieldWorkingDirectory, "'..'"},
      {"'.' in the working directory", [](Command& c) { c.set_working_directory("./src"); },
       kFieldWorkingDirectory, "normalized"},
      {"an output leaving the working directory",
       [](Command& c) { c.set_output_paths(0, "../escape"); }, kFieldOutputPaths, "'..'"},
      {"an empty output path", [](Command& c) { c.set_output_paths(0, ""); }, kFieldOutputPaths,
       "is empty"},
      {"an output with a trailing slash", [](Command& c) { c.set_output_paths(1, "out/"); },
       kFieldOutputPaths, "must not end with '/'"},
      {"an output twice", [](Command& c) { c.set_output_paths(1, "out/a.o"); }, kFieldOutputPaths,
       "listed more than once"},
      {"unsorted outputs", [](Command& c) { c.mutable_output_paths()->SwapElements(0, 1); },
       kFieldOutputPaths, "not sorted"},
      {"a bad legacy output file", [](Command& c) { c.add_output_files("/abs"); },
       kFieldOutputFiles, "must be relative"},
      {"unsorted legacy output directories",
       [](Command& c) {
         c.add_output_directories("b");
         c.add_output_directories("a");
       },
       kFieldOutputDirectories, "not sorted"},
      {"a Command.platform property without a name",
       [](Command& c) { AddProperty(c.mutable_platform(), "", "x"); }, kFieldCommandPlatform,
       "empty name"},
  };
  for (const CommandCase& c : cases) {
    Command command = ValidCommand();
    c.change(command);
    Status status = ValidateCommandMessage(command).status();
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << c.what;
    EXPECT_EQ(BadRequestField(status), c.field) << c.what << ": " << status.message();
    EXPECT_THAT(status.message(), HasSubstr(c.says)) << c.what;
  }
}

TEST(ValidateCommandMessage, UsesTheLegacyOutputListsTogetherOnlyWhenOutputPathsIsEmpty) {
  Command command = ValidCommand();
  command.add_output_files("ignored");
  StatusOr<std::vector<std::string>> outputs = ValidateCommandMessage(command);
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  EXPECT_THAT(*outputs, ElementsAre("out/a.o", "out/b.o"));

  command.clear_output_paths();
  command.add_output_files("z.o");
  command.add_output_directories("lib");
  outputs = ValidateCommandMessage(command);
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  EXPECT_THAT(*outputs, ElementsAre("ignored", "lib", "z.o"));
}

TEST(ValidateCommandMessage, RefusesALegacyPathListedBothAsFileAndAsDirectory) {
  Command command = ValidCommand();
  command.clear_output_paths();
  command.add_output_files("out");
  command.add_output_directories("out");
  Status status = ValidateCommandMessage(command).status();
  EXPECT_EQ(BadRequestField(status), kFieldOutputDirectories) << status.message();
  EXPECT_THAT(status.message(), HasSubstr("also listed in output_files"));
}

TEST(ValidateCommandMessage, AcceptingUnsortedListsStillRefusesANameOrPathGivenTwice) {
  Command unsorted = ValidCommand();
  unsorted.mutable_environment_variables()->SwapElements(0, 1);
  unsorted.mutable_output_paths()->SwapElements(0, 1);
  EXPECT_EQ(BadRequestField(ValidateCommandMessage(unsorted).status()), kFieldEnvironment);
  StatusOr<std::vector<std::string>> outputs =
      ValidateCommandMessage(unsorted, OrderRule::kAcceptUnsorted);
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  EXPECT_THAT(*outputs, ElementsAre("out/a.o", "out/b.o")) << "returned sorted";

  Command twice = unsorted;
  twice.add_environment_variables()->set_name("HOME");
  Status status = ValidateCommandMessage(twice, OrderRule::kAcceptUnsorted).status();
  EXPECT_EQ(BadRequestField(status), kFieldEnvironment);
  EXPECT_THAT(status.message(), HasSubstr("'HOME' is listed more than once"));
  twice = unsorted;
  twice.add_output_paths("out/b.o");
  EXPECT_EQ(BadRequestField(ValidateCommandMessage(twice, OrderRule::kAcceptUnsorted).status()),
            kFieldOutputPaths);
}

TEST(ValidateActionMessage, AcceptsAnActionWithBothDigestsAndNothingElse) {
  EXPECT_TRUE(ValidateActionMessage(ValidAction()).ok());
}

TEST(ValidateActionMessage, RefusesMissingOrMalformedDigestsNamingTheField) {
  Action action = ValidAction();
  action.clear_command_digest();
  EXPECT_EQ(BadRequestField(ValidateActionMessage(action)), kFieldCommandDigest);
  action = ValidAction();
  action.clear_input_root_digest();
  EXPECT_EQ(BadRequestField(ValidateActionMessage(action)), kFieldInputRootDigest);
  action = ValidAction();
  *action.mutable_command_digest() = MakeDigest("XYZ", 3);
  EXPECT_EQ(BadRequestField(ValidateActionMessage(action)), kFieldCommandDigest);
  action = ValidAction();
  *action.mutable_input_root_digest() = MakeDigest(std::string(kEmptySha256), -1);
  EXPECT_EQ(BadRequestField(ValidateActionMessage(action)), kFieldInputRootDigest);
}

TEST(ValidateActionMessage, RefusesANegativeTimeoutAndNanosOfASecondOrMore) {
  Action action = ValidAction();
  action.mutable_timeout()->set_seconds(-1);
  Status negative = ValidateActionMessage(action);
  EXPECT_EQ(BadRequestField(negative), kFieldTimeout);
  EXPECT_THAT(negative.message(), HasSubstr("negative"));
  action.mutable_timeout()->set_seconds(1);
  action.mutable_timeout()->set_nanos(1000000000);
  EXPECT_EQ(BadRequestField(ValidateActionMessage(action)), kFieldTimeout);
  action.mutable_timeout()->set_nanos(999999999);
  EXPECT_TRUE(ValidateActionMessage(action).ok());
}

TEST(ValidateActionMessage, RefusesAnActionPlatformNotSortedByNameThenValue) {
  Action action = ValidAction();
  AddProperty(action.mutable_platform(), "OSFamily", "linux");
  AddProperty(action.mutable_platform(), "ISA", "x86-64");
  Status status = ValidateActionMessage(action);
  EXPECT_EQ(BadRequestField(status), kFieldActionPlatform) << status.message();
  EXPECT_THAT(status.message(), HasSubstr("not sorted"));

  EXPECT_TRUE(ValidateActionMessage(action, OrderRule::kAcceptUnsorted).ok());

  Action same_name = ValidAction();
  AddProperty(same_name.mutable_platform(), "label", "a");
  AddProperty(same_name.mutable_platform(), "label", "b");
  EXPECT_TRUE(ValidateActionMessage(same_name).ok()) << "a name may repeat with other values";
}

TEST(EffectivePlatform, PrefersTheActionsAndRefusesACommandPlatformThatDiffers) {
  Action action = ValidAction();
  Command command = ValidCommand();
  AddProperty(command.mutable_platform(), "OSFamily", "linux");
  StatusOr<Platform> legacy = EffectivePlatform(action, command);
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->properties(0).value(), "linux") << "an older client's Command.platform";

  AddProperty(action.mutable_platform(), "OSFamily", "linux");
  EXPECT_TRUE(EffectivePlatform(action, command).ok()) << "equal copies agree";
  AddProperty(action.mutable_platform(), "ISA", "x86-64");
  AddProperty(command.mutable_platform(), "ISA", "x86-64");
  command.mutable_platform()->mutable_properties()->SwapElements(0, 1);
  EXPECT_TRUE(EffectivePlatform(action, command).ok()) << "the same properties in another order";
  action.mutable_platform()->mutable_properties()->RemoveLast();
  command.clear_platform();
  AddProperty(command.mutable_platform(), "OSFamily", "linux");

  action.mutable_platform()->mutable_properties(0)->set_value("windows");
  Status differ = EffectivePlatform(action, command).status();
  EXPECT_EQ(BadRequestField(differ), kFieldActionPlatform);
  EXPECT_THAT(differ.message(), HasSubstr("differ"));

  command.clear_platform();
  StatusOr<Platform> chosen = EffectivePlatform(action, command);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->properties(0).value(), "windows");
}

}  // namespace
}  // namespace cairn
