// cas-remote's local blob cache against the real cairn-server: it stays
// within its size, evicted blobs are fetched again, a blob larger than the
// whole cache is still read but not kept, and clients sharing a cache
// directory read what another evicted.
#include <filesystem>
#include <string>
#include <vector>

#include "cairn/directory_rules.h"
#include "cas_remote_support.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

TEST_F(CasRemoteTest, TheLocalCacheStaysWithinItsSizeAndEvictedBlobsAreFetchedAgain) {
  std::vector<std::string> blobs;
  std::vector<Digest> digests;
  for (uint32_t i = 0; i < 6; ++i) {
    blobs.push_back(RandomBytes(1 << 20, 100 + i));
    digests.push_back(Upload(blobs.back()));
  }
  std::shared_ptr<Storage> store = OpenStore("cache-size: 3M\n");
  ASSERT_NE(store, nullptr);
  const std::string cache =
      runtimes_.size() > 0 ? dir_.path() + "/client-cache-" + std::to_string(runtimes_.size() - 1)
                           : "";
  auto bytes_on_disk = [&] {
    uint64_t total = 0;
    for (const auto& entry : fs::recursive_directory_iterator(cache + "/objects")) {
      if (entry.is_regular_file()) total += entry.file_size();
    }
    return total;
  };
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < blobs.size(); ++i) {
      StatusOr<std::string> read = store->ReadBlob(digests[i], 0, 0);
      ASSERT_TRUE(read.ok()) << "blob " << i << ": " << read.status().ToString();
      EXPECT_TRUE(*read == blobs[i]) << "blob " << i;
      StatusOr<StorageStats> stats = store->Stats();
      ASSERT_TRUE(stats.ok());
      EXPECT_LE(stats->total_bytes, 3u << 20);
      EXPECT_EQ(stats->quota_bytes, 3u << 20);
      EXPECT_LE(bytes_on_disk(), 3u << 20);
    }
  }
  StatusOr<StorageStats> stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_bytes, 3u << 20);  // the last three
}

TEST_F(CasRemoteTest, ABlobLargerThanTheWholeCacheIsStillReadAndNotKept) {
  const std::string big = RandomBytes((2 << 20) + 5, 17);
  Digest digest = DigestOfBytes(big);
  std::shared_ptr<Storage> writer = OpenStore();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->WriteBlob(big, digest).ok());
  std::shared_ptr<Storage> store = OpenStore("cache-size: 1M\n");
  ASSERT_NE(store, nullptr);
  StatusOr<std::string> read = store->ReadBlob(digest, 0, 0);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read == big);
  std::string path = dir_.path() + "/big";
  Status to_path = store->ReadBlobToPath(digest, path, false);
  ASSERT_TRUE(to_path.ok()) << to_path.ToString();
  EXPECT_TRUE(ReadFile(path) == big);
  StatusOr<StorageStats> stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_LE(stats->total_bytes, 1u << 20);
}

TEST_F(CasRemoteTest, ClientsSharingACacheDirectoryReadWhatTheOtherEvicted) {
  std::vector<std::string> blobs;
  std::vector<Digest> digests;
  for (uint32_t i = 0; i < 4; ++i) {
    blobs.push_back(RandomBytes(1 << 20, 200 + i));
    digests.push_back(Upload(blobs.back()));
  }
  Directory directory;
  FileNode* file = directory.add_files();
  file->set_name("first");
  *file->mutable_digest() = digests[0];
  Digest root = UploadMessage(directory);
  const std::string shared = dir_.path() + "/shared-cache";
  std::shared_ptr<Storage> first = OpenStore("cache-size: 2M\n", "", shared);
  std::shared_ptr<Storage> second = OpenStore("cache-size: 2M\n", "", shared);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  // The first client caches blob 0 and the tree; the second evicts them.
  ASSERT_TRUE(first->ReadBlob(digests[0], 0, 0).ok());
  ASSERT_TRUE(first->ReadBlob(root, 0, 0).ok());
  for (size_t i = 0; i < digests.size(); ++i) {
    StatusOr<std::string> read = second->ReadBlob(digests[i], 0, 0);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
  }
  ASSERT_TRUE(second->ReadBlob(root, 0, 0).ok());
  ASSERT_FALSE(
      fs::exists(shared + "/objects/" + digests[0].hash().substr(0, 2) + "/" + digests[0].hash()));
  StatusOr<std::string> again = first->ReadBlob(digests[0], 0, 0);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(*again == blobs[0]);
  std::string target = dir_.path() + "/staged";
  fs::create_directories(target);
  Status staged = first->StageTree(root, target, StageOptions{true});
  ASSERT_TRUE(staged.ok()) << staged.ToString();
  EXPECT_TRUE(ReadFile(target + "/first") == blobs[0]);
}

}  // namespace
}  // namespace cairn
