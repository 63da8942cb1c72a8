// cas-remote's action results, references and assets against the real
// cairn-server: they live in the server's action cache and Remote Asset
// service (in the instance named, or else the endpoint's), and verifying
// and collecting garbage are the server's business.
#include <string>

#include "cairn/directory_rules.h"
#include "cas_remote_support.h"

namespace cairn {
namespace {

namespace reapi = build::bazel::remote::execution::v2;

TEST_F(CasRemoteTest, ActionResultsRoundTripThroughTheServersActionCache) {
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  reapi::Command command;
  command.add_arguments("/bin/true");
  StatusOr<Digest> command_digest = store->WriteMessage(command);
  ASSERT_TRUE(command_digest.ok()) << command_digest.status().ToString();
  reapi::Action action;
  *action.mutable_command_digest() = *command_digest;
  *action.mutable_input_root_digest() = UploadMessage(Directory());
  StatusOr<Digest> action_digest = store->WriteMessage(action);
  ASSERT_TRUE(action_digest.ok()) << action_digest.status().ToString();

  EXPECT_EQ(store->GetActionResult("", *action_digest).status().code(), Code::kNotFound);
  ActionResult result;
  result.set_exit_code(3);
  *result.mutable_stdout_digest() = Upload("output");
  Status updated = store->UpdateActionResult("", *action_digest, result);
  ASSERT_TRUE(updated.ok()) << updated.ToString();

  std::shared_ptr<Storage> other = OpenStore();
  ASSERT_NE(other, nullptr);
  StatusOr<ActionResult> found = other->GetActionResult("", *action_digest);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->exit_code(), 3);
  EXPECT_EQ(found->stdout_digest(), DigestOfBytes("output"));
}

TEST_F(CasRemoteTest, ActionResultsGoToTheInstanceNamedOrElseTheEndpoints) {
  StopServer();
  StartServer([](server::ServerConfig& config) {
    server::InstanceConfig other;
    other.name = "team/other";
    config.instances = {server::InstanceConfig{}, other};
  });
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  Digest action = DigestOfBytes("an action of the other team");
  ActionResult result;
  result.set_exit_code(7);
  Status updated = store->UpdateActionResult("team/other", action, result);
  ASSERT_TRUE(updated.ok()) << updated.ToString();
  StatusOr<ActionResult> found = store->GetActionResult("team/other", action);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->exit_code(), 7);
  EXPECT_EQ(store->GetActionResult("", action).status().code(), Code::kNotFound);
  // "" is the endpoint's instance.
  std::shared_ptr<Storage> other_team = OpenStore("instance-name: team/other\n");
  ASSERT_NE(other_team, nullptr);
  StatusOr<ActionResult> from_endpoint = other_team->GetActionResult("", action);
  ASSERT_TRUE(from_endpoint.ok()) << from_endpoint.status().ToString();
  EXPECT_EQ(from_endpoint->exit_code(), 7);
}

TEST_F(CasRemoteTest, ReferencesAndAssetsLiveInTheServersRemoteAsset) {
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  StatusOr<Digest> blob = store->WriteBlob("referenced", std::nullopt);
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  EXPECT_EQ(store->GetReference("project/main").status().code(), Code::kNotFound);
  Status set = store->SetReference("project/main", *blob);
  ASSERT_TRUE(set.ok()) << set.ToString();
  std::shared_ptr<Storage> other = OpenStore();
  ASSERT_NE(other, nullptr);
  StatusOr<Digest> got = other->GetReference("project/main");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, *blob);
  // What the reference names must be on the server.
  Status dangling = store->SetReference("dangling", DigestOfBytes("not uploaded"));
  EXPECT_EQ(dangling.code(), Code::kFailedPrecondition) << dangling.ToString();

  // Assets pass through as they are: what the artifact cache uses.
  AssetPushRequest push;
  push.add_uris("cairn-artifact:project/hello.bst");
  auto* qualifier = push.add_qualifiers();
  qualifier->set_name("cache-key");
  qualifier->set_value("0123");
  *push.mutable_blob_digest() = *blob;
  Status pushed = store->PushAsset(AssetKind::kBlob, push);
  ASSERT_TRUE(pushed.ok()) << pushed.ToString();
  AssetFetchRequest fetch;
  fetch.add_uris("cairn-artifact:project/hello.bst");
  *fetch.add_qualifiers() = *qualifier;
  StatusOr<AssetFetchResponse> fetched = other->FetchAsset(AssetKind::kBlob, fetch);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->blob_digest(), *blob);
  fetch.mutable_qualifiers(0)->set_value("4567");
  EXPECT_EQ(other->FetchAsset(AssetKind::kBlob, fetch).status().code(), Code::kNotFound);

  // A directory asset names a tree root, through PushDirectory and
  // FetchDirectory.
  Directory tree;
  FileNode* file = tree.add_files();
  file->set_name("referenced");
  *file->mutable_digest() = *blob;
  Digest root = UploadMessage(tree);
  AssetPushRequest push_tree;
  push_tree.add_uris("urn:example:tree");
  *push_tree.mutable_blob_digest() = root;
  Status pushed_tree = store->PushAsset(AssetKind::kDirectory, push_tree);
  ASSERT_TRUE(pushed_tree.ok()) << pushed_tree.ToString();
  AssetFetchRequest fetch_tree;
  fetch_tree.add_uris("urn:example:tree");
  StatusOr<AssetFetchResponse> fetched_tree = other->FetchAsset(AssetKind::kDirectory, fetch_tree);
  ASSERT_TRUE(fetched_tree.ok()) << fetched_tree.status().ToString();
  EXPECT_EQ(fetched_tree->blob_digest(), root);
  EXPECT_EQ(other->FetchAsset(AssetKind::kBlob, fetch_tree).status().code(), Code::kNotFound);
}

TEST_F(CasRemoteTest, VerifyAndGarbageCollectionAreTheServersBusiness) {
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  StatusOr<VerifyReport> verified = store->Verify(false);
  EXPECT_EQ(verified.status().code(), Code::kUnimplemented);
  EXPECT_NE(verified.status().message().find("server's business"), std::string::npos)
      << verified.status().message();
  StatusOr<uint64_t> collected = store->CollectGarbage(0);
  EXPECT_EQ(collected.status().code(), Code::kUnimplemented);
  EXPECT_NE(collected.status().message().find("server's business"), std::string::npos)
      << collected.status().message();
  StatusOr<StorageCapabilities> capabilities = store->Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
  EXPECT_NE(capabilities->flags & CAIRN_STORAGE_REMOTE, 0u);
  EXPECT_NE(capabilities->flags & CAIRN_STORAGE_ASSETS, 0u);
}

}  // namespace
}  // namespace cairn
