// Execute against the real server running actions in the real bwrap
// sandbox: the stages an action goes through, its result and outputs, and
// the action cache (what is cached, what is not, skipping the lookup);
// timeouts with the partial output kept. What Execute refuses is in
// execution_refusals_test.cc, the life of an operation (waiting,
// disconnecting, cancelling, merging) in execution_operations_test.cc.
//
// The actions run in an input root holding a static busybox (bin/busybox
// and applet links); execution_support.h makes it.
#include <string>
#include <vector>

#include "execution_support.h"
#include "server_fixture.h"

namespace cairn::server {
namespace {

TEST_F(ServerTest, ASuccessfulActionStreamsEveryStageAndIsThenServedFromTheCache) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), Script("echo hello; echo oops >&2"));

  std::vector<Stage> stages;
  Operation first = ExecuteToEnd(*execution_, Request(action), &stages);
  EXPECT_EQ(stages, (std::vector<Stage>{
                        reapi::ExecutionStage::CACHE_CHECK, reapi::ExecutionStage::QUEUED,
                        reapi::ExecutionStage::EXECUTING, reapi::ExecutionStage::COMPLETED}));
  EXPECT_EQ(first.name().rfind("operations/", 0), 0u) << first.name();
  reapi::ExecuteOperationMetadata metadata;
  ASSERT_TRUE(first.metadata().UnpackTo(&metadata));
  EXPECT_EQ(metadata.action_digest(), action);
  EXPECT_EQ(metadata.digest_function(), reapi::DigestFunction::SHA256);
  reapi::ExecuteResponse response = ResponseOf(first);
  EXPECT_EQ(response.status().code(), 0) << response.status().message();
  EXPECT_FALSE(response.cached_result());
  EXPECT_EQ(response.result().exit_code(), 0);
  EXPECT_EQ(Get(*cas_, response.result().stdout_digest()), "hello\n");
  EXPECT_EQ(Get(*cas_, response.result().stderr_digest()), "oops\n");

  Operation second = ExecuteToEnd(*execution_, Request(action), &stages);
  EXPECT_EQ(stages.back(), reapi::ExecutionStage::COMPLETED);
  reapi::ExecuteResponse cached = ResponseOf(second);
  EXPECT_TRUE(cached.cached_result());
  EXPECT_EQ(cached.status().code(), 0);
  EXPECT_EQ(cached.result().stdout_digest(), response.result().stdout_digest());
  EXPECT_NE(second.name(), first.name());
}

TEST_F(ServerTest, StdoutAndStderrAreInlinedWhenAsked) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), Script("echo out; echo err >&2"));
  reapi::ExecuteRequest request = Request(action);
  request.set_inline_stdout(true);
  request.set_inline_stderr(true);
  reapi::ExecuteResponse run = ResponseOf(ExecuteToEnd(*execution_, request));
  EXPECT_EQ(run.result().stdout_raw(), "out\n");
  EXPECT_EQ(run.result().stderr_raw(), "err\n");
  reapi::ExecuteResponse cached = ResponseOf(ExecuteToEnd(*execution_, request));
  EXPECT_TRUE(cached.cached_result());
  EXPECT_EQ(cached.result().stdout_raw(), "out\n");
  // Not asked, not inlined: the digest is enough.
  reapi::ExecuteResponse plain = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  EXPECT_TRUE(plain.result().stdout_raw().empty());
  EXPECT_EQ(Get(*cas_, plain.result().stdout_digest()), "out\n");
}

TEST_F(ServerTest, SkippingTheCacheLookupRunsTheActionAgainAndReplacesTheEntry) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest action =
      PutAction(*cas_, PutBusyboxRoot(*cas_), Script("cat /proc/sys/kernel/random/uuid"));
  reapi::ExecuteResponse first = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  reapi::ExecuteResponse again =
      ResponseOf(ExecuteToEnd(*execution_, Request(action, /*skip_cache_lookup=*/true)));
  EXPECT_FALSE(again.cached_result());
  EXPECT_EQ(again.status().code(), 0) << again.status().message();
  EXPECT_NE(again.result().stdout_digest(), first.result().stdout_digest())
      << "the action did not run again";

  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = action;
  reapi::ActionResult entry;
  ASSERT_TRUE(action_cache_->GetActionResult(Deadline().get(), lookup, &entry).ok());
  EXPECT_EQ(entry.stdout_digest(), again.result().stdout_digest());
}

TEST_F(ServerTest, ANonZeroExitIsAResultButIsNotCached) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), Script("echo failing; exit 3"));
  reapi::ExecuteResponse response = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  EXPECT_EQ(response.status().code(), 0) << "a non-zero exit code is not an error status";
  EXPECT_EQ(response.result().exit_code(), 3);
  EXPECT_EQ(Get(*cas_, response.result().stdout_digest()), "failing\n");

  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = action;
  reapi::ActionResult entry;
  EXPECT_EQ(action_cache_->GetActionResult(Deadline().get(), lookup, &entry).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(ResponseOf(ExecuteToEnd(*execution_, Request(action))).cached_result());
}

TEST_F(ServerTest, AnActionMarkedDoNotCacheIsNeverCached) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  ActionSpec spec = Script("echo fine");
  spec.do_not_cache = true;
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), spec);
  reapi::ExecuteResponse response = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  EXPECT_EQ(response.status().code(), 0) << response.status().message();
  EXPECT_EQ(response.result().exit_code(), 0);

  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = action;
  reapi::ActionResult entry;
  EXPECT_EQ(action_cache_->GetActionResult(Deadline().get(), lookup, &entry).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(ResponseOf(ExecuteToEnd(*execution_, Request(action))).cached_result());
}

TEST_F(ServerTest, ATimeoutIsDeadlineExceededInTheResponseWithThePartialOutputKept) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  ActionSpec spec = Script("echo partial; sleep 60");
  spec.timeout_seconds = 1;
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), spec);
  reapi::ExecuteResponse response = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  EXPECT_EQ(response.status().code(), static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED))
      << response.status().message();
  EXPECT_EQ(Get(*cas_, response.result().stdout_digest()), "partial\n");

  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = action;
  reapi::ActionResult entry;
  EXPECT_EQ(action_cache_->GetActionResult(Deadline().get(), lookup, &entry).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace cairn::server
