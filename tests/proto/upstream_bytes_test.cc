// Byte-level checks. The byte strings below were written by hand from the
// field numbers in /work/shared/reference/reapi-facts.md, as an upstream
// encoder would produce them: tag byte = (field_number << 3) | wire_type,
// with wire type 0 = varint and 2 = length-delimited.

#include <gtest/gtest.h>

#include <string>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "google/bytestream/bytestream.pb.h"
#include "google/longrunning/operations.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace {

namespace rev2 = build::bazel::remote::execution::v2;

// Builds a byte string from a literal that may contain NUL bytes.
template <std::size_t N>
std::string Bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// One length-delimited field: tag, one-byte length, payload.
std::string LengthDelimited(char tag, const std::string& payload) {
  EXPECT_LT(payload.size(), 128u) << "helper only writes one-byte lengths";
  return std::string(1, tag) + static_cast<char>(payload.size()) + payload;
}

// --- What we write ---------------------------------------------------------

TEST(SerializedBytes, FindMissingBlobsResponseWritesMissingDigestsAsField2) {
  rev2::FindMissingBlobsResponse response;
  rev2::Digest* digest = response.add_missing_blob_digests();
  digest->set_hash("abc");
  digest->set_size_bytes(5);

  // 0x12 = field 2, length-delimited; then Digest{1: "abc", 2: 5}.
  EXPECT_EQ(response.SerializeAsString(), Bytes("\x12\x07\x0a\x03"
                                                "abc"
                                                "\x10\x05"));
}

TEST(SerializedBytes, ByteStreamReadResponseWritesDataAsField10) {
  google::bytestream::ReadResponse response;
  response.set_data("hi");
  EXPECT_EQ(response.SerializeAsString(), Bytes("\x52\x02"
                                                "hi"));
}

TEST(SerializedBytes, ByteStreamWriteRequestWritesFields1To3And10) {
  google::bytestream::WriteRequest request;
  request.set_resource_name("r");
  request.set_write_offset(1);
  request.set_finish_write(true);
  request.set_data("d");
  EXPECT_EQ(request.SerializeAsString(), Bytes("\x0a\x01"
                                               "r"
                                               "\x10\x01"
                                               "\x18\x01"
                                               "\x52\x01"
                                               "d"));
}

TEST(SerializedBytes, NodePropertiesUnixMode0755IsAWrappedUInt32InField3) {
  rev2::NodeProperties properties;
  properties.mutable_unix_mode()->set_value(0755);
  // 0x1a = field 3, length 3, UInt32Value{1: varint 493 = 0xed 0x03}.
  EXPECT_EQ(properties.SerializeAsString(), Bytes("\x1a\x03\x08\xed\x03"));
}

TEST(SerializedBytes, TopologicallySortedTreeIsARunOfRootAndChildRecords) {
  rev2::Tree tree;
  tree.mutable_root()->add_files()->set_name("a");
  tree.add_children()->add_files()->set_name("b");
  // Root record 0x0a, then child record 0x12; each Directory{1: FileNode{1}}.
  EXPECT_EQ(tree.SerializeAsString(), Bytes("\x0a\x05\x0a\x03\x0a\x01"
                                            "a"
                                            "\x12\x05\x0a\x03\x0a\x01"
                                            "b"));
}

TEST(SerializedBytes, EmptyDirectorySerializesToZeroBytes) {
  EXPECT_EQ(rev2::Directory().SerializeAsString(), "");
}

TEST(SerializedBytes, BatchUpdateBlobsRequestWritesDigestFunctionAsField5) {
  rev2::BatchUpdateBlobsRequest request;
  request.set_digest_function(rev2::DigestFunction::BLAKE3);
  EXPECT_EQ(request.SerializeAsString(), Bytes("\x28\x09"));
}

TEST(SerializedBytes, ListOperationsRequestWritesNameAsField4) {
  google::longrunning::ListOperationsRequest request;
  request.set_name("ops");
  EXPECT_EQ(request.SerializeAsString(), Bytes("\x22\x03"
                                               "ops"));
}

TEST(SerializedBytes, ActionWritesTimeoutDoNotCacheSaltAndPlatformAt6_7_9_10) {
  rev2::Action action;
  action.mutable_timeout()->set_seconds(1);
  action.set_do_not_cache(true);
  action.set_salt("s");
  action.mutable_platform();  // empty but present
  EXPECT_EQ(action.SerializeAsString(), Bytes("\x32\x02\x08\x01"
                                              "\x38\x01"
                                              "\x4a\x01"
                                              "s"
                                              "\x52\x00"));
}

// --- What we read ----------------------------------------------------------

TEST(UpstreamBytes, FindMissingBlobsResponseParsesMissingDigestFromField2) {
  rev2::FindMissingBlobsResponse response;
  ASSERT_TRUE(
      response.ParseFromString(Bytes("\x12\x09\x0a\x04"
                                     "beef"
                                     "\x10\xac\x02")));
  ASSERT_EQ(response.missing_blob_digests_size(), 1);
  EXPECT_EQ(response.missing_blob_digests(0).hash(), "beef");
  EXPECT_EQ(response.missing_blob_digests(0).size_bytes(), 300);
}

TEST(UpstreamBytes, ByteStreamWriteRequestParsesAllFourFields) {
  google::bytestream::WriteRequest request;
  ASSERT_TRUE(
      request.ParseFromString(Bytes("\x0a\x0b"
                                    "blobs/abc/3"
                                    "\x10\x80\x01"
                                    "\x18\x01"
                                    "\x52\x03"
                                    "xyz")));
  EXPECT_EQ(request.resource_name(), "blobs/abc/3");
  EXPECT_EQ(request.write_offset(), 128);
  EXPECT_TRUE(request.finish_write());
  EXPECT_EQ(request.data(), "xyz");
}

TEST(UpstreamBytes, BatchReadBlobsResponseParsesStatusAt3AndCompressorAt4) {
  // Response{1: Digest{1: "ab", 2: 2}, 2: "zz", 3: Status{1: 5}, 4: ZSTD}
  const std::string entry = Bytes(
      "\x0a\x06\x0a\x02"
      "ab"
      "\x10\x02"
      "\x12\x02"
      "zz"
      "\x1a\x02\x08\x05"
      "\x20\x01");
  rev2::BatchReadBlobsResponse response;
  ASSERT_TRUE(response.ParseFromString(LengthDelimited('\x0a', entry)));
  ASSERT_EQ(response.responses_size(), 1);
  const auto& parsed = response.responses(0);
  EXPECT_EQ(parsed.digest().hash(), "ab");
  EXPECT_EQ(parsed.digest().size_bytes(), 2);
  EXPECT_EQ(parsed.data(), "zz");
  EXPECT_EQ(parsed.status().code(), 5);  // NOT_FOUND
  EXPECT_EQ(parsed.compressor(), rev2::Compressor::ZSTD);
}

TEST(UpstreamBytes, NodePropertiesParsesUnixModeAsWrappedUInt32) {
  rev2::NodeProperties properties;
  ASSERT_TRUE(properties.ParseFromString(Bytes("\x1a\x03\x08\xed\x03")));
  ASSERT_TRUE(properties.has_unix_mode());
  EXPECT_EQ(properties.unix_mode().value(), 0755u);
}

TEST(UpstreamBytes, DirectoryParsesNodePropertiesFromField5) {
  // Directory{5: NodeProperties{3: UInt32Value{1: 0644}}}
  rev2::Directory directory;
  ASSERT_TRUE(directory.ParseFromString(Bytes("\x2a\x05\x1a\x03\x08\xa4\x03")));
  EXPECT_EQ(directory.node_properties().unix_mode().value(), 0644u);
}

TEST(UpstreamBytes, ExecuteRequestParsesDigestFunctionAndActionDigest) {
  // ExecuteRequest{1: "main", 3: true, 6: Digest{1: "h", 2: 1}, 9: BLAKE3}
  rev2::ExecuteRequest request;
  ASSERT_TRUE(
      request.ParseFromString(Bytes("\x0a\x04"
                                    "main"
                                    "\x18\x01"
                                    "\x32\x05\x0a\x01"
                                    "h"
                                    "\x10\x01"
                                    "\x48\x09")));
  EXPECT_EQ(request.instance_name(), "main");
  EXPECT_TRUE(request.skip_cache_lookup());
  EXPECT_EQ(request.action_digest().hash(), "h");
  EXPECT_EQ(request.action_digest().size_bytes(), 1);
  EXPECT_EQ(request.digest_function(), rev2::DigestFunction::BLAKE3);
}

TEST(UpstreamBytes, RequestMetadataHeaderValueParsesToolDetailsAndMnemonic) {
  // RequestMetadata{1: ToolDetails{1: "bazel", 2: "7.0"}, 5: "CppCompile"}
  rev2::RequestMetadata metadata;
  ASSERT_TRUE(
      metadata.ParseFromString(Bytes("\x0a\x0c\x0a\x05"
                                     "bazel"
                                     "\x12\x03"
                                     "7.0"
                                     "\x2a\x0a"
                                     "CppCompile")));
  EXPECT_EQ(metadata.tool_details().tool_name(), "bazel");
  EXPECT_EQ(metadata.tool_details().tool_version(), "7.0");
  EXPECT_EQ(metadata.action_mnemonic(), "CppCompile");
}

TEST(UpstreamBytes, DoneOperationCarriesAnExecuteResponseInField5) {
  const std::string type_url =
      "type.googleapis.com/build.bazel.remote.execution.v2.ExecuteResponse";
  // Any{1: type_url, 2: ExecuteResponse{2: true, 4: {"log": LogFile{2: true}}}}
  const std::string map_entry = Bytes(
      "\x0a\x03"
      "log"
      "\x12\x02\x10\x01");
  const std::string execute_response = Bytes("\x10\x01") + LengthDelimited('\x22', map_entry);
  const std::string any =
      LengthDelimited('\x0a', type_url) + LengthDelimited('\x12', execute_response);
  // Operation{1: "op", 3: true, 5: any}
  const std::string operation_bytes = Bytes(
                                          "\x0a\x02"
                                          "op"
                                          "\x18\x01") +
                                      LengthDelimited('\x2a', any);

  google::longrunning::Operation operation;
  ASSERT_TRUE(operation.ParseFromString(operation_bytes));
  EXPECT_EQ(operation.name(), "op");
  EXPECT_TRUE(operation.done());
  ASSERT_EQ(operation.result_case(), google::longrunning::Operation::kResponse);

  rev2::ExecuteResponse response;
  ASSERT_TRUE(operation.response().UnpackTo(&response));
  EXPECT_TRUE(response.cached_result());
  ASSERT_EQ(response.server_logs().count("log"), 1u);
  EXPECT_TRUE(response.server_logs().at("log").human_readable());
}

TEST(UpstreamBytes, StatusDetailsCarryAMissingBlobPreconditionFailure) {
  const std::string type_url = "type.googleapis.com/google.rpc.PreconditionFailure";
  // PreconditionFailure{1: Violation{1: "MISSING", 2: "blobs/ab/2"}}
  const std::string violation = Bytes(
      "\x0a\x07"
      "MISSING"
      "\x12\x0a"
      "blobs/ab/2");
  const std::string failure = LengthDelimited('\x0a', violation);
  const std::string any = LengthDelimited('\x0a', type_url) + LengthDelimited('\x12', failure);
  // Status{1: 9 (FAILED_PRECONDITION), 2: "m", 3: any}
  const std::string status_bytes = Bytes(
                                       "\x08\x09\x12\x01"
                                       "m") +
                                   LengthDelimited('\x1a', any);

  google::rpc::Status status;
  ASSERT_TRUE(status.ParseFromString(status_bytes));
  EXPECT_EQ(status.code(), 9);
  ASSERT_EQ(status.details_size(), 1);

  google::rpc::PreconditionFailure parsed;
  ASSERT_TRUE(status.details(0).UnpackTo(&parsed));
  ASSERT_EQ(parsed.violations_size(), 1);
  EXPECT_EQ(parsed.violations(0).type(), "MISSING");
  EXPECT_EQ(parsed.violations(0).subject(), "blobs/ab/2");
}

}  // namespace
