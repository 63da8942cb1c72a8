// Variables: BuildStream's defaults, project and element values, errors.
#include <gtest/gtest.h>

#include "build_project.h"

namespace cairn::build_test {
namespace {

using VariablesTest = BuildProjectTest;

// An element in a subdirectory that writes `line` (after substitution) to
// /vars.txt of its artifact.
std::string Recorder(const std::string& line, const std::string& variables = "") {
  return "kind: manual\n"
         "build-depends:\n"
         "- base.bst\n" +
         variables +
         "config:\n"
         "  install-commands:\n"
         "  - mkdir -p %{install-root}\n"
         "  - echo \"" +
         line + "\" > %{install-root}/vars.txt\n";
}

TEST_F(VariablesTest, TheDefaultVariablesReachTheCommands) {
  Write("elements/sub/recorder.bst",
        Recorder("%{prefix} %{bindir} %{install-root} %{element-name} %{project-name}"));
  std::string checkout = BuildAndCheckOut("sub/recorder.bst");
  EXPECT_EQ(ReadFile(checkout + "/vars.txt"),
            "/usr /usr/bin /buildstream-install sub/recorder.bst test\n");
}

TEST_F(VariablesTest, ProjectVariablesOverrideDefaultsAndElementVariablesOverrideTheProjects) {
  Write("project.conf",
        "name: test\n"
        "element-path: elements\n"
        "variables:\n"
        "  prefix: /opt\n"
        "  colour: blue\n"
        "  shape: round\n");
  Write("elements/recorder.bst",
        Recorder("%{bindir} %{colour} %{shape}", "variables:\n  shape: square\n"));
  std::string checkout = BuildAndCheckOut("recorder.bst");
  EXPECT_EQ(ReadFile(checkout + "/vars.txt"), "/opt/bin blue square\n");
}

TEST_F(VariablesTest, AnUndefinedVariableIsAnErrorAtItsFileLineAndColumn) {
  std::string file = Write("elements/undefined.bst", Recorder("%{nonesuch}"));
  CliRun shown = Cairn({"show", "undefined.bst"});
  EXPECT_EQ(shown.code, 3);
  // Line 7 is the install command using it; column 5 is where its text starts.
  EXPECT_NE(shown.err.find(file + ":7:5: reference to undefined variable 'nonesuch'"),
            std::string::npos)
      << shown.err;
  CliRun built = Cairn({"build", "undefined.bst"});
  EXPECT_EQ(built.code, 3);
  EXPECT_EQ(Events(built, "START"), Names());
}

TEST_F(VariablesTest, VariablesReferringToEachOtherInACycleAreAnErrorNamingTheCycle) {
  std::string file = Write("elements/cycle.bst", Recorder("%{a}",
                                                          "variables:\n"
                                                          "  a: '%{b}'\n"
                                                          "  b: 'x%{a}'\n"));
  CliRun shown = Cairn({"show", "cycle.bst"});
  EXPECT_EQ(shown.code, 3);
  EXPECT_NE(shown.err.find(file + ":5:6: circular reference between variables: a -> b -> a"),
            std::string::npos)
      << shown.err;
}

}  // namespace
}  // namespace cairn::build_test
