// The ContentAddressableStorage service: FindMissingBlobs, the batches and
// GetTree, with every rejection naming the field at fault and storing
// nothing.
#include <zstd.h>

#include "server_fixture.h"

namespace cairn::server {
namespace {

class CasServiceTest : public ServerTest {
 protected:
  std::vector<Digest> Missing(const std::vector<Digest>& digests) {
    reapi::FindMissingBlobsRequest request;
    for (const Digest& digest : digests) *request.add_blob_digests() = digest;
    reapi::FindMissingBlobsResponse response;
    grpc::Status status = cas_->FindMissingBlobs(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.missing_blob_digests().begin(), response.missing_blob_digests().end()};
  }
};

TEST_F(CasServiceTest, FindMissingBlobsListsOnlyWhatIsAbsentAndNeverTheEmptyBlob) {
  StartServer();
  Digest present = Upload("present");
  Digest absent = DigestOfBytes("absent");
  EXPECT_EQ(Missing({present, absent, EmptyDigest()}), std::vector<Digest>{absent});
}

TEST_F(CasServiceTest, BatchUpdateStoresEachBlobAndReportsAStatusPerBlob) {
  StartServer();
  reapi::BatchUpdateBlobsRequest request;
  auto* good = request.add_requests();
  *good->mutable_digest() = DigestOfBytes("good");
  good->set_data("good");
  auto* lying = request.add_requests();
  *lying->mutable_digest() = DigestOfBytes("what the digest says");
  lying->set_data("something else entirely");
  auto* short_data = request.add_requests();
  *short_data->mutable_digest() = DigestOfBytes("four");
  short_data->set_data("fou");
  reapi::BatchUpdateBlobsResponse response;
  grpc::Status status = cas_->BatchUpdateBlobs(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.responses_size(), 3);
  EXPECT_EQ(response.responses(0).status().code(), 0);
  EXPECT_EQ(response.responses(1).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(response.responses(1).status().message().find("requests[1].data"), std::string::npos)
      << response.responses(1).status().message();
  EXPECT_EQ(response.responses(2).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Missing({DigestOfBytes("good"), DigestOfBytes("what the digest says"),
                     DigestOfBytes("four")}),
            (std::vector<Digest>{DigestOfBytes("what the digest says"), DigestOfBytes("four")}));
}

TEST_F(CasServiceTest, BatchReadReturnsDataAndNotFoundPerBlob) {
  StartServer();
  Digest present = Upload("hello");
  reapi::BatchReadBlobsRequest request;
  *request.add_digests() = present;
  *request.add_digests() = DigestOfBytes("nobody uploaded this");
  reapi::BatchReadBlobsResponse response;
  ASSERT_TRUE(cas_->BatchReadBlobs(Context().get(), request, &response).ok());
  ASSERT_EQ(response.responses_size(), 2);
  EXPECT_EQ(response.responses(0).status().code(), 0);
  EXPECT_EQ(response.responses(0).data(), "hello");
  EXPECT_EQ(response.responses(1).status().code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CasServiceTest, ZstdBatchesRoundTripBothWays) {
  StartServer();
  std::string data(100000, 'z');
  std::string compressed(ZSTD_compressBound(data.size()), '\0');
  compressed.resize(
      ZSTD_compress(compressed.data(), compressed.size(), data.data(), data.size(), 3));
  reapi::BatchUpdateBlobsRequest update;
  auto* blob = update.add_requests();
  *blob->mutable_digest() = DigestOfBytes(data);
  blob->set_data(compressed);
  blob->set_compressor(reapi::Compressor::ZSTD);
  reapi::BatchUpdateBlobsResponse updated;
  ASSERT_TRUE(cas_->BatchUpdateBlobs(Context().get(), update, &updated).ok());
  ASSERT_EQ(updated.responses(0).status().code(), 0) << updated.responses(0).status().message();

  reapi::BatchReadBlobsRequest read;
  *read.add_digests() = DigestOfBytes(data);
  read.add_acceptable_compressors(reapi::Compressor::ZSTD);
  reapi::BatchReadBlobsResponse response;
  ASSERT_TRUE(cas_->BatchReadBlobs(Context().get(), read, &response).ok());
  ASSERT_EQ(response.responses(0).compressor(), reapi::Compressor::ZSTD);
  std::string plain(data.size(), '\0');
  size_t size = ZSTD_decompress(plain.data(), plain.size(), response.responses(0).data().data(),
                                response.responses(0).data().size());
  ASSERT_FALSE(ZSTD_isError(size));
  EXPECT_EQ(plain, data);
}

TEST_F(CasServiceTest, ZstdDataThatIsNotZstdIsRefusedForThatBlobOnly) {
  StartServer();
  reapi::BatchUpdateBlobsRequest update;
  auto* blob = update.add_requests();
  *blob->mutable_digest() = DigestOfBytes("plain");
  blob->set_data("plain");
  blob->set_compressor(reapi::Compressor::ZSTD);
  reapi::BatchUpdateBlobsResponse updated;
  ASSERT_TRUE(cas_->BatchUpdateBlobs(Context().get(), update, &updated).ok());
  EXPECT_EQ(updated.responses(0).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Missing({DigestOfBytes("plain")}).size(), 1u);
}

struct BadDigestCase {
  const char* name;
  std::string hash;
  int64_t size;
};

TEST_F(CasServiceTest, MalformedDigestsAreInvalidArgumentNamingTheField) {
  StartServer();
  const std::vector<BadDigestCase> cases = {
      {"short hash", "abc", 3},
      {"uppercase hash", std::string(64, 'A'), 3},
      {"not hex", std::string(63, 'a') + "g", 3},
      {"negative size", std::string(64, 'a'), -1},
  };
  for (const BadDigestCase& bad : cases) {
    SCOPED_TRACE(bad.name);
    reapi::FindMissingBlobsRequest request;
    *request.add_blob_digests() = EmptyDigest();
    *request.add_blob_digests() = MakeDigest(bad.hash, bad.size);
    reapi::FindMissingBlobsResponse response;
    grpc::Status status = cas_->FindMissingBlobs(Context().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(BadRequestFieldOf(status), "blob_digests[1]") << status.error_message();
  }
}

TEST_F(CasServiceTest, AnotherDigestFunctionIsRefused) {
  StartServer();
  reapi::FindMissingBlobsRequest request;
  request.set_digest_function(reapi::DigestFunction::SHA1);
  reapi::FindMissingBlobsResponse response;
  grpc::Status status = cas_->FindMissingBlobs(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestFieldOf(status), "digest_function");
}

TEST_F(CasServiceTest, ABatchOverTheLimitIsRefusedWholeAndStoresNothing) {
  StartServer([](ServerConfig& config) { config.limits.max_batch_size = 4096; });
  reapi::BatchUpdateBlobsRequest request;
  std::string first(3000, 'a');
  std::string second(3000, 'b');
  for (const std::string* data : {&first, &second}) {
    auto* blob = request.add_requests();
    *blob->mutable_digest() = DigestOfBytes(*data);
    blob->set_data(*data);
  }
  reapi::BatchUpdateBlobsResponse response;
  grpc::Status status = cas_->BatchUpdateBlobs(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("max_batch_total_size_bytes"), std::string::npos);
  EXPECT_EQ(Missing({DigestOfBytes(first), DigestOfBytes(second)}).size(), 2u);

  reapi::BatchReadBlobsRequest read;
  *read.add_digests() = MakeDigest(std::string(64, 'a'), 5000);
  reapi::BatchReadBlobsResponse read_response;
  EXPECT_EQ(cas_->BatchReadBlobs(Context().get(), read, &read_response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CasServiceTest, AMessageLargerThanGrpcAllowsIsResourceExhaustedAndTheServerGoesOn) {
  StartServer([](ServerConfig& config) { config.limits.max_batch_size = 4096; });
  reapi::BatchUpdateBlobsRequest request;
  std::string huge(6 << 20, 'h');
  auto* blob = request.add_requests();
  *blob->mutable_digest() = DigestOfBytes(huge);
  blob->set_data(huge);
  reapi::BatchUpdateBlobsResponse response;
  grpc::Status status = cas_->BatchUpdateBlobs(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  Digest after = Upload("still serving");
  EXPECT_TRUE(Missing({after}).empty());
}

TEST_F(CasServiceTest, ABlobOverMaxBlobSizeIsRefused) {
  StartServer([](ServerConfig& config) { config.limits.max_blob_size = 10; });
  reapi::BatchUpdateBlobsRequest request;
  auto* blob = request.add_requests();
  *blob->mutable_digest() = DigestOfBytes("eleven char");
  blob->set_data("eleven char");
  reapi::BatchUpdateBlobsResponse response;
  grpc::Status status = cas_->BatchUpdateBlobs(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestFieldOf(status), "requests[0].digest");
}

// A three-level tree: root -> {a, b}, a -> {c}; b and c are the same
// (empty-but-named) directory, which GetTree sends once.
struct SampleTree {
  reapi::Directory root, a, shared;
};

TEST_F(CasServiceTest, GetTreeSendsEveryDirectoryOnceAndPagesResume) {
  StartServer();
  SampleTree tree;
  auto* file = tree.shared.add_files();
  file->set_name("f");
  *file->mutable_digest() = Upload("content");
  Digest shared = UploadMessage(tree.shared);
  auto* c = tree.a.add_directories();
  c->set_name("c");
  *c->mutable_digest() = shared;
  Digest a = UploadMessage(tree.a);
  auto* root_a = tree.root.add_directories();
  root_a->set_name("a");
  *root_a->mutable_digest() = a;
  auto* root_b = tree.root.add_directories();
  root_b->set_name("b");
  *root_b->mutable_digest() = shared;
  Digest root = UploadMessage(tree.root);

  reapi::GetTreeRequest request;
  *request.mutable_root_digest() = root;
  auto context = Context();
  auto reader = cas_->GetTree(context.get(), request);
  reapi::GetTreeResponse page;
  std::vector<std::string> seen;
  while (reader->Read(&page)) {
    for (const auto& directory : page.directories()) seen.push_back(directory.SerializeAsString());
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(seen,
            (std::vector<std::string>{tree.root.SerializeAsString(), tree.a.SerializeAsString(),
                                      tree.shared.SerializeAsString()}));

  // One directory per page: the first page's token resumes at the second.
  request.set_page_size(1);
  auto paged_context = Context();
  auto paged = cas_->GetTree(paged_context.get(), request);
  ASSERT_TRUE(paged->Read(&page));
  ASSERT_EQ(page.directories_size(), 1);
  ASSERT_FALSE(page.next_page_token().empty());
  std::string token = page.next_page_token();
  while (paged->Read(&page)) {
  }
  ASSERT_TRUE(paged->Finish().ok());
  request.set_page_token(token);
  auto resumed_context = Context();
  auto resumed = cas_->GetTree(resumed_context.get(), request);
  ASSERT_TRUE(resumed->Read(&page));
  EXPECT_EQ(page.directories(0).SerializeAsString(), tree.a.SerializeAsString());
  while (resumed->Read(&page)) {
  }
  EXPECT_TRUE(resumed->Finish().ok());
}

TEST_F(CasServiceTest, GetTreeOfAMissingRootIsNotFoundAndABadTokenInvalid) {
  StartServer();
  reapi::GetTreeRequest request;
  *request.mutable_root_digest() = DigestOfBytes("no such directory");
  auto context = Context();
  auto reader = cas_->GetTree(context.get(), request);
  reapi::GetTreeResponse page;
  while (reader->Read(&page)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);

  request.set_page_token("not-a-token");
  auto bad_context = Context();
  auto bad = cas_->GetTree(bad_context.get(), request);
  while (bad->Read(&page)) {
  }
  grpc::Status status = bad->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestFieldOf(status), "page_token");
}

TEST_F(CasServiceTest, BlobsAreSharedByInstancesOfOneStore) {
  StartServer([](ServerConfig& config) {
    InstanceConfig other;
    other.name = "other";
    config.instances = {InstanceConfig{}, other};
  });
  Digest digest = Upload("shared bytes", "other");
  EXPECT_TRUE(Missing({digest}).empty());
}

}  // namespace
}  // namespace cairn::server
