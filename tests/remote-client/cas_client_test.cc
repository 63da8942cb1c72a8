// CasClient against the real cairn-server: capabilities, trees with small
// and ByteStream-sized blobs up and down, and a corrupt batch download
// (from a scripted CAS stub, since a correct server never sends one).
#include "cairn/remote_client/cas_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "build/bazel/remote/execution/v2/remote_execution_mock.grpc.pb.h"
#include "cairn/merkle.h"
#include "cairn/testing/in_memory_storage.h"
#include "cairn/testing/tree_builder.h"
#include "google/bytestream/bytestream_mock.grpc.pb.h"
#include "remote_client_fixture.h"

namespace cairn::remote_client {
namespace {

using ::testing::HasSubstr;
namespace reapi = build::bazel::remote::execution::v2;

constexpr uint64_t kBatchLimit = 64 << 10;

// Content of `size` bytes that is not one repeated byte, so an offset
// mistake in a chunked transfer changes the digest.
std::string Pattern(size_t size, char seed) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(seed + i * 7 + i / 4096);
  return data;
}

class CasClientTest : public RemoteClientTest {
 protected:
  void SetUp() override {
    StartServer([](server::ServerConfig& config) { config.limits.max_batch_size = kBatchLimit; });
  }
};

TEST_F(CasClientTest, ReadsTheServersCapabilitiesOnce) {
  CasClient cas(Connect(Options()));
  StatusOr<RemoteCapabilities> capabilities = cas.Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
  EXPECT_EQ(capabilities->max_batch_total_size_bytes, static_cast<int64_t>(kBatchLimit));
  EXPECT_EQ(capabilities->BatchBytes(), static_cast<int64_t>(kBatchLimit));
  EXPECT_TRUE(capabilities->exec_enabled);

  // Cached: a stopped server does not stop the answer.
  StopServer();
  StatusOr<RemoteCapabilities> again = cas.Capabilities();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->max_batch_total_size_bytes, capabilities->max_batch_total_size_bytes);
}

TEST_F(CasClientTest, NoStatedBatchLimitMeansTheDefault) {
  RemoteCapabilities capabilities;
  EXPECT_EQ(capabilities.BatchBytes(), kDefaultBatchBytes);
}

TEST_F(CasClientTest, UploadsATreeThenDownloadsItIntoAnEmptyStore) {
  testing::InMemoryStorage local;
  const std::string large = Pattern(1 << 20, 'a');          // > batch limit: ByteStream
  const std::string exact = Pattern(kBatchLimit + 1, 'q');  // just over it
  const std::string small = Pattern(1000, 'z');
  Digest root =
      testing::TreeBuilder(local).Build({"a/small=" + small, "a/b/large=" + large, "exact=" + exact,
                                         "c/empty/", "hello=hi", "link@=a/small"});
  StatusOr<CollectedTree> tree = CollectTree(local, root);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();

  CasClient cas(Connect(Options()));
  StatusOr<std::vector<Digest>> before = cas.FindMissing(tree->AllDigests());
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_FALSE(before->empty());

  Status uploaded = cas.UploadTree(root, local);
  ASSERT_TRUE(uploaded.ok()) << uploaded.ToString();
  StatusOr<std::vector<Digest>> after = cas.FindMissing(tree->AllDigests());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->empty()) << after->size() << " blobs still missing";

  testing::InMemoryStorage fresh;
  Status downloaded = cas.DownloadTree(root, fresh);
  ASSERT_TRUE(downloaded.ok()) << downloaded.ToString();
  for (const Digest& digest : tree->AllDigests()) {
    StatusOr<std::string> mine = local.ReadBlob(digest);
    StatusOr<std::string> theirs = fresh.ReadBlob(digest);
    ASSERT_TRUE(theirs.ok()) << DigestToString(digest) << ": " << theirs.status().ToString();
    EXPECT_TRUE(*mine == *theirs) << DigestToString(digest);
  }
  EXPECT_EQ(*fresh.ReadBlob(DigestOfBytes(large)), large);
}

TEST_F(CasClientTest, UploadOfABlobTheLocalStoreLacksNamesIt) {
  testing::InMemoryStorage local;
  Digest absent = DigestOfBytes("not in the local store");
  CasClient cas(Connect(Options()));
  Status uploaded = cas.Upload({absent}, local);
  EXPECT_EQ(uploaded.code(), Code::kNotFound) << uploaded.ToString();
  EXPECT_THAT(uploaded.message(), HasSubstr(DigestToString(absent)));
}

TEST_F(CasClientTest, DownloadOfABlobTheServerLacksIsNotFound) {
  testing::InMemoryStorage local;
  Digest small = DigestOfBytes("not on the server");
  Digest large = DigestOfBytes(Pattern(kBatchLimit * 2, 'x'));
  CasClient cas(Connect(Options()));
  EXPECT_EQ(cas.Download({small}, local).code(), Code::kNotFound);
  Status streamed = cas.Download({large}, local);
  EXPECT_EQ(streamed.code(), Code::kNotFound) << streamed.ToString();
  EXPECT_THAT(streamed.message(), HasSubstr(Options().url));
}

TEST_F(CasClientTest, ACorruptBatchDownloadIsDataLossAndNotStored) {
  const std::string content = "the real content";
  Digest digest = DigestOfBytes(content);
  reapi::BatchReadBlobsResponse corrupt;
  auto* entry = corrupt.add_responses();
  *entry->mutable_digest() = digest;
  entry->set_data("the fake content");

  auto cas_stub = std::make_unique<reapi::MockContentAddressableStorageStub>();
  EXPECT_CALL(*cas_stub, BatchReadBlobs)
      .WillOnce(::testing::DoAll(::testing::SetArgPointee<2>(corrupt),
                                 ::testing::Return(grpc::Status::OK)));
  std::shared_ptr<RemoteConnection> connection = Connect(Options());
  CasClient cas(connection, reapi::Capabilities::NewStub(connection->channel()),
                std::move(cas_stub),
                google::bytestream::ByteStream::NewStub(connection->channel()));
  testing::InMemoryStorage local;
  Status downloaded = cas.Download({digest}, local);
  EXPECT_EQ(downloaded.code(), Code::kDataLoss) << downloaded.ToString();
  EXPECT_THAT(downloaded.message(), HasSubstr(DigestToString(digest)));
  EXPECT_FALSE(*local.Contains(digest));
}

TEST_F(CasClientTest, ABatchEntryTheServerCouldNotServeYetIsAskedForAgainAlone) {
  const std::string first = "first blob";
  const std::string second = "second blob";
  reapi::BatchReadBlobsResponse busy;
  auto* served = busy.add_responses();
  *served->mutable_digest() = DigestOfBytes(first);
  served->set_data(first);
  auto* exhausted = busy.add_responses();
  *exhausted->mutable_digest() = DigestOfBytes(second);
  exhausted->mutable_status()->set_code(static_cast<int>(Code::kResourceExhausted));
  reapi::BatchReadBlobsResponse rest;
  auto* later = rest.add_responses();
  *later->mutable_digest() = DigestOfBytes(second);
  later->set_data(second);

  auto cas_stub = std::make_unique<reapi::MockContentAddressableStorageStub>();
  std::vector<int> asked;
  EXPECT_CALL(*cas_stub, BatchReadBlobs)
      .Times(2)
      .WillRepeatedly([&](grpc::ClientContext*, const reapi::BatchReadBlobsRequest& request,
                          reapi::BatchReadBlobsResponse* response) {
        asked.push_back(request.digests_size());
        *response = asked.size() == 1 ? busy : rest;
        return grpc::Status::OK;
      });
  std::shared_ptr<RemoteConnection> connection = Connect(Options());
  CasClient cas(connection, reapi::Capabilities::NewStub(connection->channel()),
                std::move(cas_stub),
                google::bytestream::ByteStream::NewStub(connection->channel()));
  testing::InMemoryStorage local;
  Status downloaded = cas.Download({DigestOfBytes(first), DigestOfBytes(second)}, local);
  ASSERT_TRUE(downloaded.ok()) << downloaded.ToString();
  EXPECT_EQ(asked, (std::vector<int>{2, 1}));
  EXPECT_EQ(*local.ReadBlob(DigestOfBytes(first)), first);
  EXPECT_EQ(*local.ReadBlob(DigestOfBytes(second)), second);
}

// A ByteStream writer in front of the real one that records each write's
// offset and, when `break_after` is set, loses the stream after that many
// messages, as a dropped connection would: Write() fails, and the call
// ends UNAVAILABLE (the server keeps what it got, as an unfinished upload).
class BreakingWriter : public grpc::ClientWriterInterface<google::bytestream::WriteRequest> {
 public:
  BreakingWriter(
      std::unique_ptr<grpc::ClientWriterInterface<google::bytestream::WriteRequest>> real,
      int break_after, std::vector<int64_t>* offsets)
      : real_(std::move(real)), break_after_(break_after), offsets_(offsets) {}

  bool Write(const google::bytestream::WriteRequest& request, grpc::WriteOptions options) override {
    if (break_after_ > 0 && written_ == break_after_) return false;
    ++written_;
    offsets_->push_back(request.write_offset());
    return real_->Write(request, options);
  }
  bool WritesDone() override { return real_->WritesDone(); }
  grpc::Status Finish() override {
    grpc::Status status = real_->Finish();
    if (break_after_ > 0) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection lost");
    return status;
  }

 private:
  std::unique_ptr<grpc::ClientWriterInterface<google::bytestream::WriteRequest>> real_;
  int break_after_;
  int written_ = 0;
  std::vector<int64_t>* offsets_;
};

TEST_F(CasClientTest, AnInterruptedByteStreamUploadResumesWhereTheServerGotTo) {
  testing::InMemoryStorage local;
  const std::string large = Pattern(3 * kChunkBytes + 5, 'r');
  Digest digest = *local.WriteBlob(large);

  std::shared_ptr<RemoteConnection> connection = Connect(Options());
  std::shared_ptr<google::bytestream::ByteStream::Stub> real =
      google::bytestream::ByteStream::NewStub(connection->channel());
  auto stub = std::make_unique<google::bytestream::MockByteStreamStub>();
  std::vector<std::vector<int64_t>> attempts;
  attempts.reserve(4);
  EXPECT_CALL(*stub, WriteRaw)
      .Times(2)
      .WillRepeatedly(
          [&](grpc::ClientContext* context, google::bytestream::WriteResponse* response) {
            attempts.emplace_back();
            return new BreakingWriter(real->Write(context, response), attempts.size() == 1 ? 2 : 0,
                                      &attempts.back());
          });
  EXPECT_CALL(*stub, QueryWriteStatus)
      .WillRepeatedly([&](grpc::ClientContext* context,
                          const google::bytestream::QueryWriteStatusRequest& request,
                          google::bytestream::QueryWriteStatusResponse* response) {
        return real->QueryWriteStatus(context, request, response);
      });
  CasClient cas(connection, reapi::Capabilities::NewStub(connection->channel()),
                reapi::ContentAddressableStorage::NewStub(connection->channel()), std::move(stub));

  Status uploaded = cas.Upload({digest}, local);
  ASSERT_TRUE(uploaded.ok()) << uploaded.ToString();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0], (std::vector<int64_t>{0, kChunkBytes}));
  ASSERT_FALSE(attempts[1].empty());
  EXPECT_EQ(attempts[1].front(), 2 * kChunkBytes) << "the second stream started over";

  CasClient plain(connection);
  StatusOr<std::vector<Digest>> missing = plain.FindMissing({digest});
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_TRUE(missing->empty());
  testing::InMemoryStorage fresh;
  ASSERT_TRUE(plain.Download({digest}, fresh).ok());
  EXPECT_TRUE(*fresh.ReadBlob(digest) == large);
}

}  // namespace
}  // namespace cairn::remote_client
