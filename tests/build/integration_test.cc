// Integration commands of staged elements, run before a build.
#include <gtest/gtest.h>

#include "build_project.h"

namespace cairn::build_test {
namespace {

// lib.bst has its own environment and an integration command that records
// it; consumer.bst, with a different environment, stages lib.bst.
class IntegrationTest : public BuildProjectTest {
 protected:
  void WriteLib(const std::string& integration) {
    Write("elements/lib.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "environment:\n"
          "  LIB_VAR: from-lib\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}/opt\n"
          "public:\n"
          "  bst:\n"
          "    integration-commands:\n"
          "    - " +
              integration + "\n");
    Write("elements/consumer.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "- lib.bst\n"
          "environment:\n"
          "  LIB_VAR: from-consumer\n"
          "  CONSUMER_VAR: consumer\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}\n"
          "  - cp /opt/seen %{install-root}/seen\n");
  }
};

TEST_F(IntegrationTest, IntegrationCommandsRunBeforeTheBuildCommands) {
  WriteLib("echo integrated > /opt/seen");
  CliRun built = Cairn({"build", "consumer.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(ReadFile(Checkout("consumer.bst", {"--deps", "none"}) + "/seen"), "integrated\n");
  CliRun listed = Cairn({"artifact", "list-contents", "consumer.bst"});
  EXPECT_EQ(listed.out, "seen\n") << "integration's files are not the element's";
}

// BuildStream runs each element's integration commands with that
// element's environment (element.py, Element.integrate), whoever stages it.
TEST_F(IntegrationTest, IntegrationCommandsRunInTheEnvironmentOfTheElementTheyBelongTo) {
  WriteLib("echo \"lib=$LIB_VAR consumer=$CONSUMER_VAR\" > /opt/seen");
  CliRun built = Cairn({"build", "consumer.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(ReadFile(Checkout("consumer.bst", {"--deps", "none"}) + "/seen"),
            "lib=from-lib consumer=\n");
}

TEST_F(IntegrationTest, AFailingIntegrationCommandFailsTheBuildNamingIt) {
  WriteLib("echo integration-broke >&2; exit 4");
  CliRun built = Cairn({"build", "consumer.bst"});
  EXPECT_EQ(built.code, 1) << built.err;
  EXPECT_EQ(Events(built, "FAILURE"), Names({"consumer.bst"})) << built.err;
  EXPECT_NE(built.err.find("integration-commands[1] of lib.bst failed with exit code 4"),
            std::string::npos)
      << built.err;
  EXPECT_EQ(States({"consumer.bst"})["consumer.bst"], "failed");
  CliRun log = Cairn({"artifact", "log", "consumer.bst"});
  EXPECT_NE(log.out.find("integration-broke"), std::string::npos) << log.out;
}

TEST_F(IntegrationTest, AFailingIntegrationCommandFailsTheCheckoutNamingIt) {
  WriteLib("exit 4");
  Write("elements/system.bst", "kind: stack\ndepends:\n- base.bst\n- lib.bst\n");
  ASSERT_EQ(Cairn({"build", "system.bst"}).code, 0);
  std::string directory = base_ + "/out";
  CliRun checkout = Cairn({"artifact", "checkout", "system.bst", "--directory", directory});
  EXPECT_NE(checkout.code, 0);
  EXPECT_NE(checkout.err.find("integration-commands[1] of lib.bst failed with exit code 4"),
            std::string::npos)
      << checkout.err;
  EXPECT_EQ(
      Cairn({"artifact", "checkout", "system.bst", "--directory", directory, "--no-integrate"})
          .code,
      0);
}

}  // namespace
}  // namespace cairn::build_test
