// The ActionCache service: results served only while complete, updates
// only with their blobs present, instances kept apart.
#include "server_fixture.h"

namespace cairn::server {
namespace {

class ActionCacheServiceTest : public ServerTest {
 protected:
  grpc::Status Update(const Digest& action, const reapi::ActionResult& result,
                      const std::string& instance = "") {
    reapi::UpdateActionResultRequest request;
    request.set_instance_name(instance);
    *request.mutable_action_digest() = action;
    *request.mutable_action_result() = result;
    reapi::ActionResult response;
    return action_cache_->UpdateActionResult(Context().get(), request, &response);
  }

  grpc::Status Get(const Digest& action, reapi::ActionResult* result,
                   const std::string& instance = "",
                   const std::function<void(reapi::GetActionResultRequest&)>& adjust = {}) {
    reapi::GetActionResultRequest request;
    request.set_instance_name(instance);
    *request.mutable_action_digest() = action;
    if (adjust) adjust(request);
    return action_cache_->GetActionResult(Context().get(), request, result);
  }

  // A result with an output file, stdout and an output directory whose
  // Tree holds one file.
  reapi::ActionResult CompleteResult() {
    reapi::ActionResult result;
    auto* file = result.add_output_files();
    file->set_path("out/a.txt");
    *file->mutable_digest() = Upload("contents of a");
    *result.mutable_stdout_digest() = Upload("what it printed");
    reapi::Tree tree;
    auto* inner = tree.mutable_root()->add_files();
    inner->set_name("b.txt");
    *inner->mutable_digest() = Upload("contents of b");
    auto* directory = result.add_output_directories();
    directory->set_path("out/dir");
    *directory->mutable_tree_digest() = UploadMessage(tree);
    return result;
  }
};

TEST_F(ActionCacheServiceTest, AStoredResultIsServedWithTheInlineContentsAsked) {
  StartServer();
  Digest action = DigestOfBytes("an action");
  reapi::ActionResult result = CompleteResult();
  ASSERT_TRUE(Update(action, result).ok());
  reapi::ActionResult served;
  grpc::Status status = Get(action, &served, "", [](reapi::GetActionResultRequest& request) {
    request.set_inline_stdout(true);
    request.add_inline_output_files("out/a.txt");
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(served.stdout_raw(), "what it printed");
  EXPECT_EQ(served.output_files(0).contents(), "contents of a");
  EXPECT_EQ(served.output_directories(0).tree_digest(), result.output_directories(0).tree_digest());

  reapi::ActionResult plain;
  ASSERT_TRUE(Get(action, &plain).ok());
  EXPECT_TRUE(plain.stdout_raw().empty());
  EXPECT_TRUE(plain.output_files(0).contents().empty());
}

TEST_F(ActionCacheServiceTest, AMissIsNotFound) {
  StartServer();
  reapi::ActionResult served;
  EXPECT_EQ(Get(DigestOfBytes("never run"), &served).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ActionCacheServiceTest, AnUpdateReferencingMissingBlobsIsFailedPreconditionListingThem) {
  StartServer();
  reapi::ActionResult result = CompleteResult();
  Digest absent = DigestOfBytes("never uploaded");
  *result.mutable_stderr_digest() = absent;
  grpc::Status status = Update(DigestOfBytes("an action"), result);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(MissingBlobsOf(status), std::vector<Digest>{absent});
  reapi::ActionResult served;
  EXPECT_EQ(Get(DigestOfBytes("an action"), &served).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ActionCacheServiceTest, AResultWhoseBlobsAreGoneIsNotServed) {
  StartServer();
  Digest action = DigestOfBytes("an action");
  reapi::ActionResult result = CompleteResult();
  ASSERT_TRUE(Update(action, result).ok());
  StopServer();
  // Remove one file of the output directory's tree from the store, as an
  // eviction would.
  Digest gone = DigestOfBytes("contents of b");
  std::string object =
      dir_.path() + "/cache/cas/objects/" + gone.hash().substr(0, 2) + "/" + gone.hash().substr(2);
  ASSERT_EQ(::unlink(object.c_str()), 0) << object;
  StartServer();
  reapi::ActionResult served;
  EXPECT_EQ(Get(action, &served).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ActionCacheServiceTest, InstancesNeverSeeEachOthersResults) {
  StartServer([](ServerConfig& config) {
    InstanceConfig other;
    other.name = "team/other";
    config.instances = {InstanceConfig{}, other};
  });
  Digest action = DigestOfBytes("an action");
  ASSERT_TRUE(Update(action, CompleteResult(), "team/other").ok());
  reapi::ActionResult served;
  EXPECT_TRUE(Get(action, &served, "team/other").ok());
  EXPECT_EQ(Get(action, &served, "").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ActionCacheServiceTest, AMalformedActionDigestIsInvalidArgument) {
  StartServer();
  reapi::ActionResult served;
  grpc::Status status = Get(MakeDigest("xyz", 1), &served);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("action_digest"), std::string::npos);
}

}  // namespace
}  // namespace cairn::server
