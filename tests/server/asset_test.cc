// Remote Asset's Fetch and Push over the real server and cas-local store:
// pushed names are served by URI and exact qualifiers, per instance, until
// they expire, through garbage collection and a restart; what cannot be
// served is said where the API says it.
#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server_fixture.h"

namespace cairn::server {
namespace {

using google::protobuf::util::TimeUtil;
using Qualifiers = std::vector<std::pair<std::string, std::string>>;

// What a push or fetch says beyond its digest.
struct AssetName {
  AssetName(std::vector<std::string> uris, Qualifiers qualifiers = {}, std::string instance = "")
      : uris(std::move(uris)), qualifiers(std::move(qualifiers)), instance(std::move(instance)) {}
  std::vector<std::string> uris;
  Qualifiers qualifiers;
  std::string instance;
};

template <typename Request>
Request Named(const AssetName& name) {
  Request request;
  request.set_instance_name(name.instance);
  for (const std::string& uri : name.uris) request.add_uris(uri);
  for (const auto& [key, value] : name.qualifiers) {
    auto* qualifier = request.add_qualifiers();
    qualifier->set_name(key);
    qualifier->set_value(value);
  }
  return request;
}

// The google.rpc.Status a failed call carries in its details.
google::rpc::Status RpcStatusOf(const grpc::Status& status) {
  google::rpc::Status rpc;
  rpc.ParseFromString(status.error_details());
  return rpc;
}

template <typename Detail>
Detail DetailOf(const grpc::Status& status) {
  Detail detail;
  google::rpc::Status rpc = RpcStatusOf(status);
  for (const auto& any : rpc.details()) {
    if (any.UnpackTo(&detail)) return detail;
  }
  ADD_FAILURE() << "no " << detail.GetTypeName() << " in " << status.error_message();
  return detail;
}

// Returns once the wall clock is past the second `now`.
void WaitForTheNextSecond(std::time_t now) {
  while (std::time(nullptr) <= now) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

std::string Subject(const Digest& digest) {
  return "blobs/" + digest.hash() + "/" + std::to_string(digest.size_bytes());
}

// Fetch, Push and FindMissingBlobs on the server's channel; every call has
// a deadline.
class AssetClient {
 public:
  // `token`: sent as a bearer token when not empty.
  explicit AssetClient(const std::shared_ptr<grpc::Channel>& channel, std::string token = "")
      : token_(std::move(token)),
        push_(rasset::Push::NewStub(channel)),
        fetch_(rasset::Fetch::NewStub(channel)),
        cas_(reapi::ContentAddressableStorage::NewStub(channel)) {}

  grpc::Status Push(const AssetName& name, const Digest& content,
                    const std::vector<Digest>& references = {},
                    const google::protobuf::Timestamp* expire_at = nullptr) {
    auto request = Named<rasset::PushBlobRequest>(name);
    *request.mutable_blob_digest() = content;
    for (const Digest& digest : references) *request.add_references_blobs() = digest;
    if (expire_at != nullptr) *request.mutable_expire_at() = *expire_at;
    rasset::PushBlobResponse response;
    return push_->PushBlob(Context().get(), request, &response);
  }

  // The call's status and the response.
  std::pair<grpc::Status, rasset::FetchBlobResponse> Fetch(
      const AssetName& name, const google::protobuf::Timestamp* oldest = nullptr) {
    auto request = Named<rasset::FetchBlobRequest>(name);
    if (oldest != nullptr) *request.mutable_oldest_content_accepted() = *oldest;
    rasset::FetchBlobResponse response;
    grpc::Status status = fetch_->FetchBlob(Context().get(), request, &response);
    return {status, response};
  }

  // The blob the asset `name` is served as; fails the test if it is not.
  std::string FetchedHash(const AssetName& name) {
    auto [status, response] = Fetch(name);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.status().code(), 0) << response.status().message();
    return response.blob_digest().hash();
  }

  // That the call succeeded but nothing pushed matched: NOT_FOUND in the
  // response, not as the call's status.
  void ExpectNotServed(const AssetName& name, const google::protobuf::Timestamp* oldest = nullptr) {
    auto [status, response] = Fetch(name, oldest);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.status().code(), grpc::StatusCode::NOT_FOUND)
        << "served " << response.blob_digest().hash() << " from " << response.uri();
    EXPECT_FALSE(response.has_blob_digest());
  }

  std::vector<std::string> Missing(const std::vector<Digest>& digests) {
    reapi::FindMissingBlobsRequest request;
    for (const Digest& digest : digests) *request.add_blob_digests() = digest;
    reapi::FindMissingBlobsResponse response;
    grpc::Status status = cas_->FindMissingBlobs(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> missing;
    for (const Digest& digest : response.missing_blob_digests()) missing.push_back(digest.hash());
    return missing;
  }

  rasset::Push::Stub& push() { return *push_; }
  rasset::Fetch::Stub& fetch() { return *fetch_; }

 private:
  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!token_.empty()) context->AddMetadata("authorization", "Bearer " + token_);
    return context;
  }

  std::string token_;
  std::unique_ptr<rasset::Push::Stub> push_;
  std::unique_ptr<rasset::Fetch::Stub> fetch_;
  std::unique_ptr<reapi::ContentAddressableStorage::Stub> cas_;
};

TEST_F(ServerTest, APushedBlobIsFetchedByItsUri) {
  StartServer();
  AssetClient assets(channel_);
  Digest content = Upload("the source tarball");
  ASSERT_TRUE(assets.Push({{"https://example.org/src.tar.gz"}}, content).ok());

  auto [status, response] = assets.Fetch({{"https://example.org/src.tar.gz"}});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status().code(), 0) << response.status().message();
  EXPECT_EQ(response.uri(), "https://example.org/src.tar.gz");
  EXPECT_EQ(response.blob_digest().hash(), content.hash());
  EXPECT_EQ(response.blob_digest().size_bytes(), content.size_bytes());
  EXPECT_EQ(response.digest_function(), reapi::DigestFunction::SHA256);
  EXPECT_FALSE(response.has_expires_at());
}

TEST_F(ServerTest, AnyOfSeveralPushedUrisFindsTheBlobAndTheResponseNamesIt) {
  StartServer();
  AssetClient assets(channel_);
  Digest content = Upload("mirrored");
  ASSERT_TRUE(assets.Push({{"https://a.example/x", "https://b.example/x"}}, content).ok());

  auto [status, response] = assets.Fetch({{"https://unknown.example/x", "https://b.example/x"}});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status().code(), 0) << response.status().message();
  EXPECT_EQ(response.uri(), "https://b.example/x");
  EXPECT_EQ(response.blob_digest().hash(), content.hash());
  EXPECT_EQ(assets.FetchedHash({{"https://a.example/x"}}), content.hash());
}

TEST_F(ServerTest, QualifiersMustMatchExactlyAndOtherQualifiersAreAnotherAsset) {
  StartServer();
  AssetClient assets(channel_);
  Digest main = Upload("main at abc");
  Digest release = Upload("release at def");
  const std::string uri = "https://git.example/repo.git";
  ASSERT_TRUE(
      assets.Push({{uri}, {{"vcs.commit", "abc"}, {"resource_type", "application/x-git"}}}, main)
          .ok());
  ASSERT_TRUE(
      assets.Push({{uri}, {{"vcs.commit", "def"}, {"resource_type", "application/x-git"}}}, release)
          .ok());

  // In any order.
  auto [status, response] =
      assets.Fetch({{uri}, {{"resource_type", "application/x-git"}, {"vcs.commit", "abc"}}});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.blob_digest().hash(), main.hash());
  ASSERT_EQ(response.qualifiers_size(), 2);
  EXPECT_EQ(
      assets.FetchedHash({{uri}, {{"vcs.commit", "def"}, {"resource_type", "application/x-git"}}}),
      release.hash());

  assets.ExpectNotServed({{uri}, {{"vcs.commit", "abc"}}});  // a subset
  assets.ExpectNotServed({{uri}});                           // none
  assets.ExpectNotServed(
      {{uri}, {{"vcs.commit", "abc"}, {"resource_type", "application/x-git"}, {"directory", "a"}}});
  assets.ExpectNotServed({{uri}, {{"vcs.commit", "xyz"}, {"resource_type", "application/x-git"}}});
}

TEST_F(ServerTest, AnUnknownUriIsNotFoundInsideAnOkResponse) {
  StartServer();
  AssetClient assets(channel_);
  auto [status, response] = assets.Fetch({{"https://example.org/never-pushed"}});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status().code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(response.status().message().find("https://example.org/never-pushed"), std::string::npos)
      << response.status().message();
  EXPECT_FALSE(response.has_blob_digest());

  rasset::FetchDirectoryRequest request = Named<rasset::FetchDirectoryRequest>({{"urn:x"}});
  rasset::FetchDirectoryResponse directory;
  grpc::Status fetched = assets.fetch().FetchDirectory(Context().get(), request, &directory);
  ASSERT_TRUE(fetched.ok()) << fetched.error_message();
  EXPECT_EQ(directory.status().code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerTest, APushedDirectoryTreeIsFetchedAndABlobOfTheSameUriIsAnotherAsset) {
  StartServer();
  AssetClient assets(channel_);
  Digest readme = Upload("read me");
  Digest main_c = Upload("int main() {}");
  reapi::Directory source;
  auto* file = source.add_files();
  file->set_name("main.c");
  *file->mutable_digest() = main_c;
  Digest source_digest = UploadMessage(source);
  reapi::Directory root;
  file = root.add_files();
  file->set_name("README");
  *file->mutable_digest() = readme;
  auto* child = root.add_directories();
  child->set_name("src");
  *child->mutable_digest() = source_digest;
  Digest root_digest = UploadMessage(root);

  auto push = Named<rasset::PushDirectoryRequest>({{"urn:cairn:tree"}});
  *push.mutable_root_directory_digest() = root_digest;
  rasset::PushDirectoryResponse pushed;
  grpc::Status status = assets.push().PushDirectory(Context().get(), push, &pushed);
  ASSERT_TRUE(status.ok()) << status.error_message();

  auto fetch = Named<rasset::FetchDirectoryRequest>({{"urn:cairn:tree"}});
  rasset::FetchDirectoryResponse response;
  status = assets.fetch().FetchDirectory(Context().get(), fetch, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status().code(), 0) << response.status().message();
  EXPECT_EQ(response.uri(), "urn:cairn:tree");
  EXPECT_EQ(response.root_directory_digest().hash(), root_digest.hash());
  EXPECT_EQ(response.root_directory_digest().size_bytes(), root_digest.size_bytes());

  assets.ExpectNotServed({{"urn:cairn:tree"}});  // no blob was pushed under it
}

TEST_F(ServerTest, PushingADirectoryWhoseTreeIsIncompleteIsFailedPreconditionListingTheBlob) {
  StartServer();
  AssetClient assets(channel_);
  Digest absent = DigestOfBytes("never uploaded");
  reapi::Directory root;
  auto* file = root.add_files();
  file->set_name("lost");
  *file->mutable_digest() = absent;
  Digest root_digest = UploadMessage(root);

  auto push = Named<rasset::PushDirectoryRequest>({{"urn:cairn:incomplete"}});
  *push.mutable_root_directory_digest() = root_digest;
  rasset::PushDirectoryResponse pushed;
  grpc::Status status = assets.push().PushDirectory(Context().get(), push, &pushed);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  auto failure = DetailOf<google::rpc::PreconditionFailure>(status);
  ASSERT_EQ(failure.violations_size(), 1);
  EXPECT_EQ(failure.violations(0).type(), "MISSING");
  EXPECT_EQ(failure.violations(0).subject(), Subject(absent));
}

TEST_F(ServerTest, PushingContentOrReferencesNotInTheCasIsFailedPreconditionListingEach) {
  StartServer();
  AssetClient assets(channel_);
  Digest present = Upload("present");
  Digest absent_content = DigestOfBytes("absent content");
  Digest absent_reference = DigestOfBytes("absent reference");

  grpc::Status status = assets.Push({{"urn:cairn:missing"}}, absent_content);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  auto failure = DetailOf<google::rpc::PreconditionFailure>(status);
  ASSERT_EQ(failure.violations_size(), 1);
  EXPECT_EQ(failure.violations(0).type(), "MISSING");
  EXPECT_EQ(failure.violations(0).subject(), Subject(absent_content));

  status = assets.Push({{"urn:cairn:missing"}}, present, {present, absent_reference});
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  failure = DetailOf<google::rpc::PreconditionFailure>(status);
  ASSERT_EQ(failure.violations_size(), 1);
  EXPECT_EQ(failure.violations(0).subject(), Subject(absent_reference));

  assets.ExpectNotServed({{"urn:cairn:missing"}});
}

TEST_F(ServerTest, UnsupportedQualifiersAreInvalidArgumentWithABadRequestViolationEach) {
  StartServer();
  AssetClient assets(channel_);
  Digest content = Upload("content");
  for (bool fetch : {true, false}) {
    AssetName name{{"urn:cairn:q"}, {{"vcs.commit", "abc"}, {"colour", "blue"}, {"size", "L"}}};
    grpc::Status status = fetch ? assets.Fetch(name).first : assets.Push(name, content);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    auto request = DetailOf<google::rpc::BadRequest>(status);
    ASSERT_EQ(request.field_violations_size(), 2) << request.DebugString();
    EXPECT_EQ(request.field_violations(0).field(), "qualifiers.name");
    EXPECT_EQ(request.field_violations(0).description(), "\"colour\" not supported");
    EXPECT_EQ(request.field_violations(1).field(), "qualifiers.name");
    EXPECT_EQ(request.field_violations(1).description(), "\"size\" not supported");
  }
}

TEST_F(ServerTest, CairnsCacheKeyIsSupportedAndBazelsHeadersDoNotChangeTheMatch) {
  StartServer();
  AssetClient assets(channel_);
  Digest artifact = Upload("an artifact");
  ASSERT_TRUE(assets.Push({{"cairn-artifact:p/e.bst"}, {{"cache-key", "k1"}}}, artifact).ok());
  EXPECT_EQ(assets.FetchedHash({{"cairn-artifact:p/e.bst"}, {{"cache-key", "k1"}}}),
            artifact.hash());

  Digest tarball = Upload("a tarball Bazel asks for");
  const std::string uri = "https://example.org/dep.tar.gz";
  ASSERT_TRUE(assets.Push({{uri}, {{"checksum.sri", "sha256-abc="}}}, tarball).ok());
  EXPECT_EQ(assets.FetchedHash({{uri},
                                {{"checksum.sri", "sha256-abc="},
                                 {"http_header:Authorization", "Bearer secret"},
                                 {"http_header_url:0:Accept", "*/*"}}}),
            tarball.hash());
  assets.ExpectNotServed(
      {{uri}, {{"checksum.sri", "sha256-abc="}, {"bazel.canonical_id", "other"}}});
}

TEST_F(ServerTest, MalformedRequestsAreInvalidArgumentNamingTheField) {
  StartServer();
  AssetClient assets(channel_);
  Digest content = Upload("content");
  struct Case {
    AssetName name;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{}}, "uris"},
      {{{"urn:a", ""}}, "uris[1]"},
      {{{"urn:a"}, {{"vcs.commit", "a"}, {"vcs.commit", "b"}}}, "qualifiers"},
  };
  for (const Case& bad : cases) {
    for (const grpc::Status& status :
         {assets.Fetch(bad.name).first, assets.Push(bad.name, content)}) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.field;
      auto request = DetailOf<google::rpc::BadRequest>(status);
      ASSERT_GT(request.field_violations_size(), 0);
      EXPECT_EQ(request.field_violations(0).field(), bad.field) << status.error_message();
    }
  }

  Digest malformed = content;
  malformed.set_hash("ABC");
  grpc::Status status = assets.Push({{"urn:a"}}, malformed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailOf<google::rpc::BadRequest>(status).field_violations(0).field(), "blob_digest");
  status = assets.Push({{"urn:a"}}, content, {content, malformed});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailOf<google::rpc::BadRequest>(status).field_violations(0).field(),
            "references_blobs[1]");

  auto request = Named<rasset::FetchBlobRequest>({{"urn:a"}});
  request.set_digest_function(reapi::DigestFunction::SHA1);
  rasset::FetchBlobResponse response;
  status = assets.fetch().FetchBlob(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailOf<google::rpc::BadRequest>(status).field_violations(0).field(),
            "digest_function");
}

TEST_F(ServerTest, AnAssetPastItsExpireAtIsNotServedAndOneBeforeItSaysWhenItExpires) {
  StartServer();
  AssetClient assets(channel_);
  Digest content = Upload("short-lived");
  google::protobuf::Timestamp past = TimeUtil::GetCurrentTime() - TimeUtil::SecondsToDuration(60);
  google::protobuf::Timestamp future =
      TimeUtil::GetCurrentTime() + TimeUtil::SecondsToDuration(3600);
  ASSERT_TRUE(assets.Push({{"urn:cairn:expired"}}, content, {}, &past).ok());
  ASSERT_TRUE(assets.Push({{"urn:cairn:later"}}, content, {}, &future).ok());

  assets.ExpectNotServed({{"urn:cairn:expired"}});
  auto [status, response] = assets.Fetch({{"urn:cairn:later"}});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.blob_digest().hash(), content.hash());
  EXPECT_EQ(response.expires_at().seconds(), future.seconds());
}

TEST_F(ServerTest, AnAssetPushedBeforeOldestContentAcceptedIsNotServed) {
  StartServer();
  AssetClient assets(channel_);
  Digest content = Upload("older");
  ASSERT_TRUE(assets.Push({{"urn:cairn:old"}}, content).ok());
  google::protobuf::Timestamp before = TimeUtil::GetCurrentTime() - TimeUtil::SecondsToDuration(60);
  google::protobuf::Timestamp after = TimeUtil::GetCurrentTime() + TimeUtil::SecondsToDuration(60);

  assets.ExpectNotServed({{"urn:cairn:old"}}, &after);
  auto [status, response] = assets.Fetch({{"urn:cairn:old"}}, &before);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.blob_digest().hash(), content.hash());
}

TEST_F(ServerTest, TwoInstancesNeverSeeEachOthersAssets) {
  StartServer([](ServerConfig& config) {
    InstanceConfig plain;
    InstanceConfig other;
    other.name = "other";
    config.instances = {plain, other};
  });
  AssetClient assets(channel_);
  Digest mine = Upload("default instance's");
  Digest theirs = Upload("other instance's", "other");
  ASSERT_TRUE(assets.Push({{"urn:cairn:shared-name"}}, mine).ok());
  assets.ExpectNotServed({{"urn:cairn:shared-name"}, {}, "other"});

  ASSERT_TRUE(assets.Push({{"urn:cairn:shared-name"}, {}, "other"}, theirs).ok());
  EXPECT_EQ(assets.FetchedHash({{"urn:cairn:shared-name"}}), mine.hash());
  EXPECT_EQ(assets.FetchedHash({{"urn:cairn:shared-name"}, {}, "other"}), theirs.hash());

  auto [status, response] = assets.Fetch({{"urn:cairn:shared-name"}, {}, "nope"});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
}

TEST_F(ServerTest, FetchingNeedsReadAndPushingNeedsWrite) {
  std::string tokens = dir_.Write("tokens.yaml", R"(tokens:
  - token: reader
    permissions: [read]
)");
  StartServer([&](ServerConfig& config) { config.tokens_file = tokens; });
  AssetClient reader(channel_, "reader");
  Digest absent = DigestOfBytes("absent");

  auto [fetched, response] = reader.Fetch({{"urn:cairn:guarded"}});
  ASSERT_TRUE(fetched.ok()) << fetched.error_message();
  EXPECT_EQ(response.status().code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(reader.Push({{"urn:cairn:guarded"}}, absent).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(AssetClient(channel_).Fetch({{"urn:cairn:guarded"}}).first.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ServerTest, TheBlobsOfAnAssetSurviveGarbageCollectionThatEvictsOthers) {
  // 64 KiB of quota: past 32 KiB written the store collects down to 6 KiB,
  // least recently used first.
  auto small_store = [](ServerConfig& config) {
    config.storage.plugin = "cas-local";
    config.storage.options_yaml =
        "path: " + config.cache_dir + "/cas\nquota: 64K\nhigh-watermark: 0.5\nlow-watermark: 0.1\n";
  };
  StartServer(small_store);
  Digest content = Upload(std::string(1000, 'c'));
  Digest referenced = Upload(std::string(1000, 'r'));
  Digest unnamed = Upload(std::string(1000, 'u'));
  ASSERT_TRUE(AssetClient(channel_).Push({{"urn:cairn:kept"}}, content, {referenced}).ok());
  // The collector spares every object used since the busy period of a
  // process with the store open began, to the second (cas-local's
  // leases): the three blobs become collectable once a server started in
  // a later second holds the store.
  StopServer();
  WaitForTheNextSecond(std::time(nullptr));
  StartServer(small_store);
  AssetClient assets(channel_);

  for (int i = 0; i < 24; ++i) Upload(std::to_string(i) + std::string(4096, 'f'));

  // The blob nothing names is gone, so a collection did run.
  EXPECT_EQ(assets.Missing({content, referenced, unnamed}),
            std::vector<std::string>{unnamed.hash()});
  EXPECT_EQ(assets.FetchedHash({{"urn:cairn:kept"}}), content.hash());
}

TEST_F(ServerTest, AnAssetIsStillServedAfterARestart) {
  StartServer();
  AssetClient assets(channel_);
  Digest content = Upload("durable");
  ASSERT_TRUE(assets.Push({{"urn:cairn:durable"}, {{"vcs.branch", "main"}}}, content).ok());
  StopServer();

  StartServer();
  AssetClient restarted(channel_);
  EXPECT_EQ(restarted.FetchedHash({{"urn:cairn:durable"}, {{"vcs.branch", "main"}}}),
            content.hash());
}

}  // namespace
}  // namespace cairn::server
