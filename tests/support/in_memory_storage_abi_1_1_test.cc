// InMemoryStorage: what ABI 1.1 added — capabilities, resumable uploads
// and Remote Asset mappings, with the semantics of cairn/plugin.h.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/merkle.h"
#include "cairn/status_details.h"
#include "cairn/testing/in_memory_storage.h"

namespace cairn::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

TEST(InMemoryStorageCapabilities, EveryLocalCapabilityIsAnnouncedAndLimitsAreEnforced) {
  InMemoryStorage store;
  StorageCapabilities capabilities = *store.Capabilities();
  EXPECT_NE(capabilities.flags & CAIRN_STORAGE_UPLOADS, 0u);
  EXPECT_NE(capabilities.flags & CAIRN_STORAGE_ASSETS, 0u);
  EXPECT_EQ(capabilities.flags & CAIRN_STORAGE_REMOTE, 0u);

  StorageCapabilities small;
  small.max_blob_size = 4;
  InMemoryStorage limited(small);
  EXPECT_TRUE(limited.WriteBlob("1234").ok());
  EXPECT_EQ(limited.WriteBlob("12345").status().code(), Code::kInvalidArgument);
}

TEST(InMemoryStorageUploads, AnUploadInPiecesCommitsTheBlobWhenFinished) {
  InMemoryStorage store;
  Digest digest = DigestOfBytes("hello world");
  EXPECT_EQ(store.UploadWrite("u1", digest, 0, "hello ", false)->committed_size, 6u);
  UploadStatus halfway = *store.QueryUpload("u1", digest);
  EXPECT_EQ(halfway.committed_size, 6u);
  EXPECT_FALSE(halfway.complete);
  UploadStatus done = *store.UploadWrite("u1", digest, 6, "world", true);
  EXPECT_TRUE(done.complete);
  EXPECT_EQ(done.committed_size, 11u);
  EXPECT_EQ(*store.ReadBlob(digest), "hello world");
  EXPECT_TRUE(store.QueryUpload("u1", digest)->complete);
}

TEST(InMemoryStorageUploads, AWriteAtTheWrongOffsetIsRefused) {
  InMemoryStorage store;
  Digest digest = DigestOfBytes("abcdef");
  ASSERT_TRUE(store.UploadWrite("u", digest, 0, "abc", false).ok());
  EXPECT_EQ(store.UploadWrite("u", digest, 2, "cdef", true).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store.QueryUpload("u", digest)->committed_size, 3u);
}

TEST(InMemoryStorageUploads, AMismatchDiscardsTheUploadAndAbortForgetsOne) {
  InMemoryStorage store;
  Digest digest = DigestOfBytes("right");
  EXPECT_EQ(store.UploadWrite("u", digest, 0, "wrong", true).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store.QueryUpload("u", digest)->committed_size, 0u);
  EXPECT_FALSE(*store.Contains(digest));

  ASSERT_TRUE(store.UploadWrite("v", digest, 0, "ri", false).ok());
  ASSERT_TRUE(store.AbortUpload("v").ok());
  ASSERT_TRUE(store.AbortUpload("never-started").ok());
  EXPECT_EQ(store.QueryUpload("v", digest)->committed_size, 0u);
}

TEST(InMemoryStorageUploads, ABlobAlreadyPresentCompletesAtOnce) {
  InMemoryStorage store;
  Digest digest = *store.WriteBlob("present");
  UploadStatus status = *store.UploadWrite("u", digest, 0, "", false);
  EXPECT_TRUE(status.complete);
  EXPECT_EQ(status.committed_size, 7u);
}

AssetPushRequest Push(const std::string& uri, const Digest& digest) {
  AssetPushRequest request;
  request.add_uris(uri);
  auto* qualifier = request.add_qualifiers();
  qualifier->set_name("resource_type");
  qualifier->set_value("application/x-tar");
  *request.mutable_blob_digest() = digest;
  return request;
}

AssetFetchRequest Fetch(const std::vector<std::string>& uris) {
  AssetFetchRequest request;
  for (const std::string& uri : uris) request.add_uris(uri);
  auto* qualifier = request.add_qualifiers();
  qualifier->set_name("resource_type");
  qualifier->set_value("application/x-tar");
  return request;
}

TEST(InMemoryStorageAssets, AFetchFindsTheFirstMappedUriWithExactlyTheQualifiers) {
  InMemoryStorage store;
  Digest content = *store.WriteBlob("tarball");
  ASSERT_TRUE(store.PushAsset(AssetKind::kBlob, Push("https://b/x.tar", content)).ok());
  StatusOr<AssetFetchResponse> fetched =
      store.FetchAsset(AssetKind::kBlob, Fetch({"https://a/x.tar", "https://b/x.tar"}));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->uri(), "https://b/x.tar");
  EXPECT_EQ(fetched->blob_digest(), content);

  AssetFetchRequest unqualified = Fetch({"https://b/x.tar"});
  unqualified.clear_qualifiers();
  EXPECT_EQ(store.FetchAsset(AssetKind::kBlob, unqualified).status().code(), Code::kNotFound);
  EXPECT_EQ(store.FetchAsset(AssetKind::kDirectory, Fetch({"https://b/x.tar"})).status().code(),
            Code::kNotFound);
}

TEST(InMemoryStorageAssets, PushingWithoutTheContentListsEveryMissingBlob) {
  InMemoryStorage store;
  Digest absent = DigestOfBytes("absent");
  Digest reference = DigestOfBytes("reference");
  AssetPushRequest request = Push("https://x", absent);
  *request.add_references_blobs() = reference;
  Status pushed = store.PushAsset(AssetKind::kBlob, request);
  EXPECT_EQ(pushed.code(), Code::kFailedPrecondition);
  EXPECT_THAT(MissingBlobs(pushed), UnorderedElementsAre(absent, reference));
}

TEST(InMemoryStorageAssets, ADirectoryAssetNeedsItsWholeTree) {
  InMemoryStorage store;
  Directory root;
  FileNode* file = root.add_files();
  file->set_name("f");
  *file->mutable_digest() = DigestOfBytes("file content");
  Digest tree = *store.WriteMessage(root);
  Status pushed = store.PushAsset(AssetKind::kDirectory, Push("git://repo", tree));
  EXPECT_THAT(MissingBlobs(pushed), ElementsAre(DigestOfBytes("file content")));
  ASSERT_TRUE(store.WriteBlob("file content").ok());
  ASSERT_TRUE(store.PushAsset(AssetKind::kDirectory, Push("git://repo", tree)).ok());
  EXPECT_EQ(store.FetchAsset(AssetKind::kDirectory, Fetch({"git://repo"}))->blob_digest(), tree);

  // Its content evicted, an asset is no longer found.
  ASSERT_TRUE(store.DeleteBlob(DigestOfBytes("file content")));
  EXPECT_EQ(store.FetchAsset(AssetKind::kDirectory, Fetch({"git://repo"})).status().code(),
            Code::kNotFound);
}

TEST(InMemoryStorageAssets, ExpiredAndRemovedAssetsAreNotFound) {
  InMemoryStorage store;
  Digest content = *store.WriteBlob("c");
  AssetPushRequest expired = Push("https://old", content);
  expired.mutable_expire_at()->set_seconds(1);
  ASSERT_TRUE(store.PushAsset(AssetKind::kBlob, expired).ok());
  EXPECT_EQ(store.FetchAsset(AssetKind::kBlob, Fetch({"https://old"})).status().code(),
            Code::kNotFound);

  ASSERT_TRUE(store.PushAsset(AssetKind::kBlob, Push("https://new", content)).ok());
  ASSERT_TRUE(store.RemoveAsset(AssetKind::kBlob, Fetch({"https://new", "https://none"})).ok());
  EXPECT_EQ(store.FetchAsset(AssetKind::kBlob, Fetch({"https://new"})).status().code(),
            Code::kNotFound);
}

TEST(InMemoryStorageAssets, GarbageCollectionKeepsWhatAnAssetNames) {
  InMemoryStorage store;
  Digest kept = *store.WriteBlob("kept by an asset");
  Digest loose = *store.WriteBlob("nobody needs me");
  ASSERT_TRUE(store.PushAsset(AssetKind::kBlob, Push("https://k", kept)).ok());
  EXPECT_GT(*store.CollectGarbage(1), 0u);
  EXPECT_THAT(*store.FindMissing({kept, loose}), ElementsAre(loose));
}

}  // namespace
}  // namespace cairn::testing
