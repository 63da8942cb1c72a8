// Assets (Remote Asset's URIs + qualifiers) of the real cas-local plugin,
// driven through the C ABI, and what they keep alive in garbage collection.
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "cairn/status_details.h"
#include "cas_test_util.h"

namespace cairn::testing {
namespace {

using build::bazel::remote::execution::v2::Directory;
using ::testing::UnorderedElementsAreArray;

constexpr char kUri[] = "https://example.com/source.tar.gz";

google::protobuf::Timestamp HoursFromNow(int hours) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(std::time(nullptr) + hours * 3600);
  return timestamp;
}

AssetPushRequest Push(const std::vector<std::string>& uris, const Digest& content,
                      const std::vector<std::pair<std::string, std::string>>& qualifiers = {}) {
  AssetPushRequest request;
  for (const std::string& uri : uris) request.add_uris(uri);
  for (const auto& [name, value] : qualifiers) {
    auto* qualifier = request.add_qualifiers();
    qualifier->set_name(name);
    qualifier->set_value(value);
  }
  *request.mutable_blob_digest() = content;
  return request;
}

AssetFetchRequest Fetch(const std::vector<std::string>& uris,
                        const std::vector<std::pair<std::string, std::string>>& qualifiers = {}) {
  AssetPushRequest push = Push(uris, Digest(), qualifiers);
  AssetFetchRequest request;
  *request.mutable_uris() = push.uris();
  *request.mutable_qualifiers() = push.qualifiers();
  return request;
}

class AssetTest : public CasTest {
 protected:
  Digest Blob(const std::string& data) {
    StatusOr<Digest> digest = store().WriteBlob(data, std::nullopt);
    EXPECT_TRUE(digest.ok()) << digest.status().ToString();
    return digest.ok() ? *digest : Digest();
  }
  // A Directory holding `files` (name -> digest) and `children`.
  Digest Dir(const std::vector<std::pair<std::string, Digest>>& files,
             const std::vector<std::pair<std::string, Digest>>& children = {}) {
    Directory directory;
    for (const auto& [name, digest] : files) {
      auto* node = directory.add_files();
      node->set_name(name);
      *node->mutable_digest() = digest;
    }
    for (const auto& [name, digest] : children) {
      auto* node = directory.add_directories();
      node->set_name(name);
      *node->mutable_digest() = digest;
    }
    return Blob(directory.SerializeAsString());
  }
  void RemoveObject(const Digest& digest) { ASSERT_EQ(::unlink(ObjectPath(digest).c_str()), 0); }
  Code FetchCode(const AssetFetchRequest& request, AssetKind kind = AssetKind::kBlob) {
    return store().FetchAsset(kind, request).status().code();
  }
};

TEST_F(AssetTest, PushedBlobIsFetchedByItsUriAndQualifiers) {
  Digest content = Blob("tarball");
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({kUri}, content, {{"vcs.commit", "abc"}})));
  ASSERT_OK_AND_ASSIGN(
      AssetFetchResponse response,
      store().FetchAsset(AssetKind::kBlob, Fetch({kUri}, {{"vcs.commit", "abc"}})));
  EXPECT_EQ(response.status().code(), 0);
  EXPECT_EQ(response.uri(), kUri);
  ASSERT_EQ(response.qualifiers_size(), 1);
  EXPECT_EQ(response.qualifiers(0).name(), "vcs.commit");
  EXPECT_EQ(response.qualifiers(0).value(), "abc");
  EXPECT_EQ(response.blob_digest(), content);
  EXPECT_FALSE(response.has_expires_at());
}

TEST_F(AssetTest, FetchMatchesExactlyThePushedQualifiersInAnyOrder) {
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({kUri}, Blob("q"), {{"a", "1"}, {"b", "2"}})));
  EXPECT_EQ(FetchCode(Fetch({kUri}, {{"b", "2"}, {"a", "1"}})), Code::kOk);
  EXPECT_EQ(FetchCode(Fetch({kUri}, {{"a", "1"}})), Code::kNotFound);
  EXPECT_EQ(FetchCode(Fetch({kUri}, {{"a", "1"}, {"b", "2"}, {"c", "3"}})), Code::kNotFound);
  EXPECT_EQ(FetchCode(Fetch({kUri}, {{"a", "1"}, {"b", "3"}})), Code::kNotFound);
  EXPECT_EQ(FetchCode(Fetch({kUri})), Code::kNotFound);
}

TEST_F(AssetTest, QualifierNamedTwiceIsInvalidArgumentNamingTheQualifiersField) {
  Status pushed =
      store().PushAsset(AssetKind::kBlob, Push({kUri}, Blob("d"), {{"a", "1"}, {"a", "2"}}));
  EXPECT_EQ(pushed.code(), Code::kInvalidArgument);
  EXPECT_EQ(BadRequestField(pushed), "qualifiers");
  Status fetched =
      store().FetchAsset(AssetKind::kBlob, Fetch({kUri}, {{"a", "1"}, {"a", "1"}})).status();
  EXPECT_EQ(fetched.code(), Code::kInvalidArgument);
  EXPECT_EQ(BadRequestField(fetched), "qualifiers");
}

TEST_F(AssetTest, OnePushMapsEveryUriAndFetchReturnsTheFirstThatMatches) {
  Digest content = Blob("mirrored");
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({"https://a/x", "https://b/x"}, content)));
  ASSERT_OK_AND_ASSIGN(AssetFetchResponse response,
                       store().FetchAsset(AssetKind::kBlob, Fetch({"https://unknown/x",
                                                                   "https://b/x", "https://a/x"})));
  EXPECT_EQ(response.uri(), "https://b/x");
  EXPECT_EQ(response.blob_digest(), content);
  EXPECT_EQ(FetchCode(Fetch({"https://a/x"})), Code::kOk);
}

TEST_F(AssetTest, PushReplacesTheMappingOfTheSameUriAndQualifiersOnly) {
  Digest first = Blob("first");
  Digest second = Blob("second");
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({kUri}, first)));
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({kUri}, first, {{"arch", "arm"}})));
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({kUri}, second)));
  ASSERT_OK_AND_ASSIGN(AssetFetchResponse plain,
                       store().FetchAsset(AssetKind::kBlob, Fetch({kUri})));
  EXPECT_EQ(plain.blob_digest(), second);
  ASSERT_OK_AND_ASSIGN(AssetFetchResponse arm,
                       store().FetchAsset(AssetKind::kBlob, Fetch({kUri}, {{"arch", "arm"}})));
  EXPECT_EQ(arm.blob_digest(), first);
}

TEST_F(AssetTest, AssetsAreKeptApartByKindAndInstance) {
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({kUri}, Blob("kind"))));
  EXPECT_EQ(FetchCode(Fetch({kUri}), AssetKind::kDirectory), Code::kNotFound);
  AssetFetchRequest other_instance = Fetch({kUri});
  other_instance.set_instance_name("other");
  EXPECT_EQ(FetchCode(other_instance), Code::kNotFound);
}

TEST_F(AssetTest, ExpiredAssetIsNotFoundAndAnUnexpiredOneReportsItsExpiry) {
  AssetPushRequest expired = Push({"https://old"}, Blob("old"));
  *expired.mutable_expire_at() = HoursFromNow(-1);
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, expired));
  EXPECT_EQ(FetchCode(Fetch({"https://old"})), Code::kNotFound);

  AssetPushRequest fresh = Push({"https://new"}, Blob("new"));
  *fresh.mutable_expire_at() = HoursFromNow(1);
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, fresh));
  ASSERT_OK_AND_ASSIGN(AssetFetchResponse response,
                       store().FetchAsset(AssetKind::kBlob, Fetch({"https://new"})));
  EXPECT_EQ(response.expires_at().seconds(), fresh.expire_at().seconds());
}

TEST_F(AssetTest, AssetPushedBeforeOldestContentAcceptedIsNotFound) {
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({kUri}, Blob("aged"))));
  AssetFetchRequest too_old = Fetch({kUri});
  *too_old.mutable_oldest_content_accepted() = HoursFromNow(1);
  EXPECT_EQ(FetchCode(too_old), Code::kNotFound);
  AssetFetchRequest recent_enough = Fetch({kUri});
  *recent_enough.mutable_oldest_content_accepted() = HoursFromNow(-1);
  EXPECT_EQ(FetchCode(recent_enough), Code::kOk);
}

TEST_F(AssetTest, RemovedAssetIsNotFoundAndRemovingAnUnknownOneIsOk) {
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({"https://a", "https://b"}, Blob("gone"))));
  ASSERT_OK(store().RemoveAsset(AssetKind::kBlob, Fetch({"https://a"})));
  EXPECT_EQ(FetchCode(Fetch({"https://a"})), Code::kNotFound);
  EXPECT_EQ(FetchCode(Fetch({"https://b"})), Code::kOk);
  ASSERT_OK(store().RemoveAsset(AssetKind::kBlob, Fetch({"https://never-pushed"})));
}

TEST_F(AssetTest, AssetWhoseContentWasEvictedIsNotFound) {
  Digest content = Blob("evicted");
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, Push({kUri}, content)));
  ASSERT_NO_FATAL_FAILURE(RemoveObject(content));
  EXPECT_EQ(FetchCode(Fetch({kUri})), Code::kNotFound);
}

TEST_F(AssetTest, DirectoryAssetIsFoundOnlyWhileItsWholeTreeIsPresent) {
  Digest leaf = Blob("leaf file");
  Digest sub = Dir({{"leaf", leaf}});
  Digest root = Dir({{"top", Blob("top file")}}, {{"sub", sub}});
  ASSERT_OK(store().PushAsset(AssetKind::kDirectory, Push({kUri}, root)));
  ASSERT_OK_AND_ASSIGN(AssetFetchResponse response,
                       store().FetchAsset(AssetKind::kDirectory, Fetch({kUri})));
  EXPECT_EQ(response.blob_digest(), root);  // field 5: root_directory_digest
  ASSERT_NO_FATAL_FAILURE(RemoveObject(leaf));
  EXPECT_EQ(FetchCode(Fetch({kUri}), AssetKind::kDirectory), Code::kNotFound);
}

TEST_F(AssetTest, PushWithMissingBlobsIsFailedPreconditionListingEveryMissingBlob) {
  Digest missing_content = DigestOfBytes("content never written");
  Digest present_reference = Blob("present reference");
  Digest missing_reference = DigestOfBytes("reference never written");
  Digest missing_file = DigestOfBytes("file never written");
  Digest missing_subtree = DigestOfBytes("subdirectory never written");
  Digest tree =
      Dir({{"ok", Blob("present file")}, {"lost", missing_file}}, {{"gone", missing_subtree}});
  AssetPushRequest request = Push({kUri}, missing_content);
  *request.add_references_blobs() = present_reference;
  *request.add_references_blobs() = missing_reference;
  *request.add_references_directories() = tree;

  Status status = store().PushAsset(AssetKind::kBlob, request);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  // The typed details crossed the ABI: no message parsing needed.
  EXPECT_THAT(MissingBlobs(status), UnorderedElementsAreArray({missing_content, missing_reference,
                                                               missing_file, missing_subtree}));
  EXPECT_EQ(FetchCode(Fetch({kUri})), Code::kNotFound) << "a refused push was recorded";
}

// Blobs written by a session that has ended at least a second ago are
// evictable unless something keeps them alive.
TEST_F(AssetTest, GarbageCollectionKeepsEverythingAnUnexpiredAssetReferences) {
  Digest unreferenced = Blob(std::string(50000, 'u'));
  Digest content = Blob(std::string(50000, 'c'));
  Digest reference = Blob(std::string(50000, 'r'));
  Digest referenced_file = Blob(std::string(50000, 'f'));
  Digest referenced_tree = Dir({{"f", referenced_file}});
  Digest nested_file = Blob(std::string(50000, 'n'));
  Digest nested = Dir({{"n", nested_file}});
  Digest top_file = Blob(std::string(50000, 't'));
  Digest directory_content = Dir({{"t", top_file}}, {{"nested", nested}});
  Digest expired_content = Blob(std::string(50000, 'e'));

  AssetPushRequest blob_asset = Push({"https://blob"}, content);
  *blob_asset.add_references_blobs() = reference;
  *blob_asset.add_references_directories() = referenced_tree;
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, blob_asset));
  ASSERT_OK(store().PushAsset(AssetKind::kDirectory, Push({"https://dir"}, directory_content)));
  AssetPushRequest expired = Push({"https://expired"}, expired_content);
  *expired.mutable_expire_at() = HoursFromNow(-1);
  ASSERT_OK(store().PushAsset(AssetKind::kBlob, expired));
  loaded_.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  Reopen("");
  ASSERT_OK(store().CollectGarbage(1).status());
  std::vector<Digest> kept = {content,     reference, referenced_file, referenced_tree,
                              nested_file, nested,    top_file,        directory_content};
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing_kept, store().FindMissing(kept));
  EXPECT_TRUE(missing_kept.empty()) << missing_kept.size() << " referenced blobs were evicted, "
                                    << "the first " << DigestToString(missing_kept[0]);
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing_rest,
                       store().FindMissing({unreferenced, expired_content}));
  EXPECT_EQ(missing_rest.size(), 2u) << "unreferenced or expired content was kept";
  ASSERT_OK_AND_ASSIGN(StorageStats stats, store().Stats());
  EXPECT_EQ(stats.reference_count, 3u) << "the three asset records";
}

}  // namespace
}  // namespace cairn::testing
