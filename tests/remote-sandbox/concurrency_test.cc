// One remote sandbox instance shared by threads, as the scheduler shares
// it: concurrent executions of distinct Actions each get their own
// outputs, whole, in the host's store.
#include <set>
#include <thread>

#include "remote_sandbox_fixture.h"

namespace cairn::testing {
namespace {

using server::ServerConfig;

constexpr int kThreads = 8;

TEST_F(RemoteSandboxTest, EightConcurrentExecutionsOnOneSandboxEachGetTheirOwnOutputs) {
  StartServer([](ServerConfig& config) { config.executions = 4; });
  StatusOr<std::unique_ptr<Sandbox>> remote = CreateRemote(RemoteOptions(ServerUrl()));
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();

  // Distinct Actions: each writes its number into a file and a nested
  // directory, and to stdout. Built before the threads start, so the
  // threads only execute.
  std::vector<Action> actions;
  for (int i = 0; i < kThreads; ++i) {
    const std::string n = std::to_string(i);
    StatusOr<Action> action = MakeShellAction(
        ShellAction{"mkdir -p dir/sub && echo file-" + n + " > out.txt && seq 1 " +
                        std::to_string((i + 1) * 100) + " > dir/sub/lines && echo stdout-" + n,
                    {"dir", "out.txt"}});
    ASSERT_TRUE(action.ok()) << action.status().ToString();
    actions.push_back(*action);
  }

  std::vector<ExecuteOutcome> outcomes(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { outcomes[i] = (*remote)->Execute(actions[i], ExecuteOptions{}); });
  }
  for (std::thread& thread : threads) thread.join();

  for (int i = 0; i < kThreads; ++i) {
    SCOPED_TRACE("execution " + std::to_string(i));
    const ExecuteOutcome& outcome = outcomes[i];
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    ASSERT_TRUE(outcome.result.has_value());
    EXPECT_EQ(outcome.result->exit_code(), 0);
    EXPECT_FALSE(outcome.cached_result);
    EXPECT_EQ(ReadLocal(outcome.result->stdout_digest()), "stdout-" + std::to_string(i) + "\n");
    ASSERT_EQ(outcome.result->output_files_size(), 1);
    EXPECT_EQ(ReadLocal(outcome.result->output_files(0).digest()),
              "file-" + std::to_string(i) + "\n");
    ASSERT_EQ(outcome.result->output_directories_size(), 1);
    StatusOr<reapi::Tree> tree =
        local().ReadMessage<reapi::Tree>(outcome.result->output_directories(0).tree_digest());
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();
    ASSERT_EQ(tree->root().directories_size(), 1);
    ASSERT_EQ(tree->children_size(), 1);
    ASSERT_EQ(tree->children(0).files_size(), 1);
    std::string expected_lines;
    for (int line = 1; line <= (i + 1) * 100; ++line) expected_lines += std::to_string(line) + "\n";
    EXPECT_EQ(ReadLocal(tree->children(0).files(0).digest()), expected_lines);
  }
  // Distinct operations on the server.
  std::set<std::string> operations;
  for (const ExecuteOutcome& outcome : outcomes) operations.insert(outcome.operation_name);
  EXPECT_EQ(operations.size(), static_cast<size_t>(kThreads));
}

}  // namespace
}  // namespace cairn::testing
