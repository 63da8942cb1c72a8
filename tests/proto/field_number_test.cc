// Field numbers and wire types are the wire format. Each row below is copied
// from /work/shared/reference/reapi-facts.md §2 independently of the .proto
// files, so a typo in either shows up as a failing row.

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "build/bazel/remote/asset/v1/remote_asset.pb.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "build/bazel/remote/logstream/v1/remote_logstream.pb.h"
#include "build/bazel/semver/semver.pb.h"
#include "google/bytestream/bytestream.pb.h"
#include "google/longrunning/operations.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

// One field as upstream defines it. In `message` and `type`, the prefixes
// "v2." and "asset." abbreviate the REv2 and Remote Asset packages. `type` is
// a scalar name ("string", "int64", ...) or a full message/enum name,
// preceded by "repeated " for repeated fields.
struct UpstreamField {
  std::string message;
  std::string field;
  int number;
  std::string type;
};

std::string Expand(const std::string& name) {
  const std::string rev2 = "v2.";
  const std::string asset = "asset.";
  if (name.compare(0, rev2.size(), rev2) == 0) {
    return "build.bazel.remote.execution.v2." + name.substr(rev2.size());
  }
  if (name.compare(0, asset.size(), asset) == 0) {
    return "build.bazel.remote.asset.v1." + name.substr(asset.size());
  }
  return name;
}

const Descriptor* FindMessage(const std::string& name) {
  return DescriptorPool::generated_pool()->FindMessageTypeByName(Expand(name));
}

const std::vector<UpstreamField>& UpstreamFields() {
  static const std::vector<UpstreamField> kFields = {
      // build.bazel.semver
      {"build.bazel.semver.SemVer", "major", 1, "int32"},
      {"build.bazel.semver.SemVer", "minor", 2, "int32"},
      {"build.bazel.semver.SemVer", "patch", 3, "int32"},
      {"build.bazel.semver.SemVer", "prerelease", 4, "string"},

      // google.rpc
      {"google.rpc.Status", "code", 1, "int32"},
      {"google.rpc.Status", "message", 2, "string"},
      {"google.rpc.Status", "details", 3, "repeated google.protobuf.Any"},
      {"google.rpc.PreconditionFailure", "violations", 1,
       "repeated google.rpc.PreconditionFailure.Violation"},
      {"google.rpc.PreconditionFailure.Violation", "type", 1, "string"},
      {"google.rpc.PreconditionFailure.Violation", "subject", 2, "string"},
      {"google.rpc.PreconditionFailure.Violation", "description", 3, "string"},
      {"google.rpc.RetryInfo", "retry_delay", 1, "google.protobuf.Duration"},
      {"google.rpc.BadRequest", "field_violations", 1,
       "repeated google.rpc.BadRequest.FieldViolation"},
      {"google.rpc.BadRequest.FieldViolation", "field", 1, "string"},
      {"google.rpc.BadRequest.FieldViolation", "description", 2, "string"},
      {"google.rpc.BadRequest.FieldViolation", "reason", 3, "string"},
      {"google.rpc.BadRequest.FieldViolation", "localized_message", 4,
       "google.rpc.LocalizedMessage"},
      {"google.rpc.LocalizedMessage", "locale", 1, "string"},
      {"google.rpc.LocalizedMessage", "message", 2, "string"},
      {"google.rpc.ErrorInfo", "reason", 1, "string"},
      {"google.rpc.ErrorInfo", "domain", 2, "string"},

      // google.bytestream
      {"google.bytestream.ReadRequest", "resource_name", 1, "string"},
      {"google.bytestream.ReadRequest", "read_offset", 2, "int64"},
      {"google.bytestream.ReadRequest", "read_limit", 3, "int64"},
      {"google.bytestream.ReadResponse", "data", 10, "bytes"},
      {"google.bytestream.WriteRequest", "resource_name", 1, "string"},
      {"google.bytestream.WriteRequest", "write_offset", 2, "int64"},
      {"google.bytestream.WriteRequest", "finish_write", 3, "bool"},
      {"google.bytestream.WriteRequest", "data", 10, "bytes"},
      {"google.bytestream.WriteResponse", "committed_size", 1, "int64"},
      {"google.bytestream.QueryWriteStatusRequest", "resource_name", 1, "string"},
      {"google.bytestream.QueryWriteStatusResponse", "committed_size", 1, "int64"},
      {"google.bytestream.QueryWriteStatusResponse", "complete", 2, "bool"},

      // google.longrunning
      {"google.longrunning.Operation", "name", 1, "string"},
      {"google.longrunning.Operation", "metadata", 2, "google.protobuf.Any"},
      {"google.longrunning.Operation", "done", 3, "bool"},
      {"google.longrunning.Operation", "error", 4, "google.rpc.Status"},
      {"google.longrunning.Operation", "response", 5, "google.protobuf.Any"},
      {"google.longrunning.GetOperationRequest", "name", 1, "string"},
      {"google.longrunning.WaitOperationRequest", "name", 1, "string"},
      {"google.longrunning.WaitOperationRequest", "timeout", 2, "google.protobuf.Duration"},
      {"google.longrunning.CancelOperationRequest", "name", 1, "string"},
      {"google.longrunning.DeleteOperationRequest", "name", 1, "string"},
      {"google.longrunning.ListOperationsRequest", "name", 4, "string"},
      {"google.longrunning.ListOperationsRequest", "filter", 1, "string"},
      {"google.longrunning.ListOperationsRequest", "page_size", 2, "int32"},
      {"google.longrunning.ListOperationsRequest", "page_token", 3, "string"},
      {"google.longrunning.ListOperationsRequest", "return_partial_success", 5, "bool"},
      {"google.longrunning.ListOperationsResponse", "operations", 1,
       "repeated google.longrunning.Operation"},
      {"google.longrunning.ListOperationsResponse", "next_page_token", 2, "string"},
      {"google.longrunning.ListOperationsResponse", "unreachable", 3, "repeated string"},

      // REv2 core data
      {"v2.Digest", "hash", 1, "string"},
      {"v2.Digest", "size_bytes", 2, "int64"},
      {"v2.Action", "command_digest", 1, "v2.Digest"},
      {"v2.Action", "input_root_digest", 2, "v2.Digest"},
      {"v2.Action", "timeout", 6, "google.protobuf.Duration"},
      {"v2.Action", "do_not_cache", 7, "bool"},
      {"v2.Action", "salt", 9, "bytes"},
      {"v2.Action", "platform", 10, "v2.Platform"},
      {"v2.Command", "arguments", 1, "repeated string"},
      {"v2.Command", "environment_variables", 2, "repeated v2.Command.EnvironmentVariable"},
      {"v2.Command", "output_files", 3, "repeated string"},
      {"v2.Command", "output_directories", 4, "repeated string"},
      {"v2.Command", "platform", 5, "v2.Platform"},
      {"v2.Command", "working_directory", 6, "string"},
      {"v2.Command", "output_paths", 7, "repeated string"},
      {"v2.Command", "output_node_properties", 8, "repeated string"},
      {"v2.Command", "output_directory_format", 9, "v2.Command.OutputDirectoryFormat"},
      {"v2.Command.EnvironmentVariable", "name", 1, "string"},
      {"v2.Command.EnvironmentVariable", "value", 2, "string"},
      {"v2.Platform", "properties", 1, "repeated v2.Platform.Property"},
      {"v2.Platform.Property", "name", 1, "string"},
      {"v2.Platform.Property", "value", 2, "string"},
      {"v2.Directory", "files", 1, "repeated v2.FileNode"},
      {"v2.Directory", "directories", 2, "repeated v2.DirectoryNode"},
      {"v2.Directory", "symlinks", 3, "repeated v2.SymlinkNode"},
      {"v2.Directory", "node_properties", 5, "v2.NodeProperties"},
      {"v2.FileNode", "name", 1, "string"},
      {"v2.FileNode", "digest", 2, "v2.Digest"},
      {"v2.FileNode", "is_executable", 4, "bool"},
      {"v2.FileNode", "node_properties", 6, "v2.NodeProperties"},
      {"v2.DirectoryNode", "name", 1, "string"},
      {"v2.DirectoryNode", "digest", 2, "v2.Digest"},
      {"v2.SymlinkNode", "name", 1, "string"},
      {"v2.SymlinkNode", "target", 2, "string"},
      {"v2.SymlinkNode", "node_properties", 4, "v2.NodeProperties"},
      {"v2.NodeProperty", "name", 1, "string"},
      {"v2.NodeProperty", "value", 2, "string"},
      {"v2.NodeProperties", "properties", 1, "repeated v2.NodeProperty"},
      {"v2.NodeProperties", "mtime", 2, "google.protobuf.Timestamp"},
      {"v2.NodeProperties", "unix_mode", 3, "google.protobuf.UInt32Value"},
      {"v2.Tree", "root", 1, "v2.Directory"},
      {"v2.Tree", "children", 2, "repeated v2.Directory"},

      // REv2 results
      {"v2.ActionResult", "output_files", 2, "repeated v2.OutputFile"},
      {"v2.ActionResult", "output_directories", 3, "repeated v2.OutputDirectory"},
      {"v2.ActionResult", "exit_code", 4, "int32"},
      {"v2.ActionResult", "stdout_raw", 5, "bytes"},
      {"v2.ActionResult", "stdout_digest", 6, "v2.Digest"},
      {"v2.ActionResult", "stderr_raw", 7, "bytes"},
      {"v2.ActionResult", "stderr_digest", 8, "v2.Digest"},
      {"v2.ActionResult", "execution_metadata", 9, "v2.ExecutedActionMetadata"},
      {"v2.ActionResult", "output_file_symlinks", 10, "repeated v2.OutputSymlink"},
      {"v2.ActionResult", "output_directory_symlinks", 11, "repeated v2.OutputSymlink"},
      {"v2.ActionResult", "output_symlinks", 12, "repeated v2.OutputSymlink"},
      {"v2.OutputFile", "path", 1, "string"},
      {"v2.OutputFile", "digest", 2, "v2.Digest"},
      {"v2.OutputFile", "is_executable", 4, "bool"},
      {"v2.OutputFile", "contents", 5, "bytes"},
      {"v2.OutputFile", "node_properties", 7, "v2.NodeProperties"},
      {"v2.OutputDirectory", "path", 1, "string"},
      {"v2.OutputDirectory", "tree_digest", 3, "v2.Digest"},
      {"v2.OutputDirectory", "is_topologically_sorted", 4, "bool"},
      {"v2.OutputDirectory", "root_directory_digest", 5, "v2.Digest"},
      {"v2.OutputSymlink", "path", 1, "string"},
      {"v2.OutputSymlink", "target", 2, "string"},
      {"v2.OutputSymlink", "node_properties", 4, "v2.NodeProperties"},
      {"v2.ExecutedActionMetadata", "worker", 1, "string"},
      {"v2.ExecutedActionMetadata", "queued_timestamp", 2, "google.protobuf.Timestamp"},
      {"v2.ExecutedActionMetadata", "worker_start_timestamp", 3, "google.protobuf.Timestamp"},
      {"v2.ExecutedActionMetadata", "worker_completed_timestamp", 4, "google.protobuf.Timestamp"},
      {"v2.ExecutedActionMetadata", "input_fetch_start_timestamp", 5, "google.protobuf.Timestamp"},
      {"v2.ExecutedActionMetadata", "input_fetch_completed_timestamp", 6,
       "google.protobuf.Timestamp"},
      {"v2.ExecutedActionMetadata", "execution_start_timestamp", 7, "google.protobuf.Timestamp"},
      {"v2.ExecutedActionMetadata", "execution_completed_timestamp", 8,
       "google.protobuf.Timestamp"},
      {"v2.ExecutedActionMetadata", "output_upload_start_timestamp", 9,
       "google.protobuf.Timestamp"},
      {"v2.ExecutedActionMetadata", "output_upload_completed_timestamp", 10,
       "google.protobuf.Timestamp"},
      {"v2.ExecutedActionMetadata", "auxiliary_metadata", 11, "repeated google.protobuf.Any"},
      {"v2.ExecutedActionMetadata", "virtual_execution_duration", 12, "google.protobuf.Duration"},
      {"v2.LogFile", "digest", 1, "v2.Digest"},
      {"v2.LogFile", "human_readable", 2, "bool"},

      // REv2 Execution service
      {"v2.ExecuteRequest", "instance_name", 1, "string"},
      {"v2.ExecuteRequest", "skip_cache_lookup", 3, "bool"},
      {"v2.ExecuteRequest", "action_digest", 6, "v2.Digest"},
      {"v2.ExecuteRequest", "execution_policy", 7, "v2.ExecutionPolicy"},
      {"v2.ExecuteRequest", "results_cache_policy", 8, "v2.ResultsCachePolicy"},
      {"v2.ExecuteRequest", "digest_function", 9, "v2.DigestFunction.Value"},
      {"v2.ExecuteRequest", "inline_stdout", 10, "bool"},
      {"v2.ExecuteRequest", "inline_stderr", 11, "bool"},
      {"v2.ExecuteRequest", "inline_output_files", 12, "repeated string"},
      {"v2.ExecutionPolicy", "priority", 1, "int32"},
      {"v2.ResultsCachePolicy", "priority", 1, "int32"},
      {"v2.WaitExecutionRequest", "name", 1, "string"},
      {"v2.ExecuteResponse", "result", 1, "v2.ActionResult"},
      {"v2.ExecuteResponse", "cached_result", 2, "bool"},
      {"v2.ExecuteResponse", "status", 3, "google.rpc.Status"},
      {"v2.ExecuteResponse", "message", 5, "string"},
      {"v2.ExecuteOperationMetadata", "stage", 1, "v2.ExecutionStage.Value"},
      {"v2.ExecuteOperationMetadata", "action_digest", 2, "v2.Digest"},
      {"v2.ExecuteOperationMetadata", "stdout_stream_name", 3, "string"},
      {"v2.ExecuteOperationMetadata", "stderr_stream_name", 4, "string"},
      {"v2.ExecuteOperationMetadata", "partial_execution_metadata", 5, "v2.ExecutedActionMetadata"},
      {"v2.ExecuteOperationMetadata", "digest_function", 6, "v2.DigestFunction.Value"},

      // REv2 ActionCache service
      {"v2.GetActionResultRequest", "instance_name", 1, "string"},
      {"v2.GetActionResultRequest", "action_digest", 2, "v2.Digest"},
      {"v2.GetActionResultRequest", "inline_stdout", 3, "bool"},
      {"v2.GetActionResultRequest", "inline_stderr", 4, "bool"},
      {"v2.GetActionResultRequest", "inline_output_files", 5, "repeated string"},
      {"v2.GetActionResultRequest", "digest_function", 6, "v2.DigestFunction.Value"},
      {"v2.UpdateActionResultRequest", "instance_name", 1, "string"},
      {"v2.UpdateActionResultRequest", "action_digest", 2, "v2.Digest"},
      {"v2.UpdateActionResultRequest", "action_result", 3, "v2.ActionResult"},
      {"v2.UpdateActionResultRequest", "results_cache_policy", 4, "v2.ResultsCachePolicy"},
      {"v2.UpdateActionResultRequest", "digest_function", 5, "v2.DigestFunction.Value"},

      // REv2 ContentAddressableStorage service
      {"v2.FindMissingBlobsRequest", "instance_name", 1, "string"},
      {"v2.FindMissingBlobsRequest", "blob_digests", 2, "repeated v2.Digest"},
      {"v2.FindMissingBlobsRequest", "digest_function", 3, "v2.DigestFunction.Value"},
      {"v2.FindMissingBlobsResponse", "missing_blob_digests", 2, "repeated v2.Digest"},
      {"v2.BatchUpdateBlobsRequest", "instance_name", 1, "string"},
      {"v2.BatchUpdateBlobsRequest", "requests", 2, "repeated v2.BatchUpdateBlobsRequest.Request"},
      {"v2.BatchUpdateBlobsRequest", "digest_function", 5, "v2.DigestFunction.Value"},
      {"v2.BatchUpdateBlobsRequest.Request", "digest", 1, "v2.Digest"},
      {"v2.BatchUpdateBlobsRequest.Request", "data", 2, "bytes"},
      {"v2.BatchUpdateBlobsRequest.Request", "compressor", 3, "v2.Compressor.Value"},
      {"v2.BatchUpdateBlobsResponse", "responses", 1,
       "repeated v2.BatchUpdateBlobsResponse.Response"},
      {"v2.BatchUpdateBlobsResponse.Response", "digest", 1, "v2.Digest"},
      {"v2.BatchUpdateBlobsResponse.Response", "status", 2, "google.rpc.Status"},
      {"v2.BatchReadBlobsRequest", "instance_name", 1, "string"},
      {"v2.BatchReadBlobsRequest", "digests", 2, "repeated v2.Digest"},
      {"v2.BatchReadBlobsRequest", "acceptable_compressors", 3, "repeated v2.Compressor.Value"},
      {"v2.BatchReadBlobsRequest", "digest_function", 4, "v2.DigestFunction.Value"},
      {"v2.BatchReadBlobsResponse", "responses", 1, "repeated v2.BatchReadBlobsResponse.Response"},
      {"v2.BatchReadBlobsResponse.Response", "digest", 1, "v2.Digest"},
      {"v2.BatchReadBlobsResponse.Response", "data", 2, "bytes"},
      {"v2.BatchReadBlobsResponse.Response", "compressor", 4, "v2.Compressor.Value"},
      {"v2.BatchReadBlobsResponse.Response", "status", 3, "google.rpc.Status"},
      {"v2.GetTreeRequest", "instance_name", 1, "string"},
      {"v2.GetTreeRequest", "root_digest", 2, "v2.Digest"},
      {"v2.GetTreeRequest", "page_size", 3, "int32"},
      {"v2.GetTreeRequest", "page_token", 4, "string"},
      {"v2.GetTreeRequest", "digest_function", 5, "v2.DigestFunction.Value"},
      {"v2.GetTreeResponse", "directories", 1, "repeated v2.Directory"},
      {"v2.GetTreeResponse", "next_page_token", 2, "string"},
      {"v2.SplitBlobRequest", "instance_name", 1, "string"},
      {"v2.SplitBlobRequest", "blob_digest", 2, "v2.Digest"},
      {"v2.SplitBlobRequest", "digest_function", 3, "v2.DigestFunction.Value"},
      {"v2.SplitBlobRequest", "chunking_function", 4, "v2.ChunkingFunction.Value"},
      {"v2.SplitBlobResponse", "chunk_digests", 1, "repeated v2.Digest"},
      {"v2.SplitBlobResponse", "chunking_function", 2, "v2.ChunkingFunction.Value"},
      {"v2.SpliceBlobRequest", "instance_name", 1, "string"},
      {"v2.SpliceBlobRequest", "blob_digest", 2, "v2.Digest"},
      {"v2.SpliceBlobRequest", "chunk_digests", 3, "repeated v2.Digest"},
      {"v2.SpliceBlobRequest", "digest_function", 4, "v2.DigestFunction.Value"},
      {"v2.SpliceBlobRequest", "chunking_function", 5, "v2.ChunkingFunction.Value"},
      {"v2.SpliceBlobResponse", "blob_digest", 1, "v2.Digest"},

      // REv2 Capabilities service
      {"v2.GetCapabilitiesRequest", "instance_name", 1, "string"},
      {"v2.ServerCapabilities", "cache_capabilities", 1, "v2.CacheCapabilities"},
      {"v2.ServerCapabilities", "execution_capabilities", 2, "v2.ExecutionCapabilities"},
      {"v2.ServerCapabilities", "deprecated_api_version", 3, "build.bazel.semver.SemVer"},
      {"v2.ServerCapabilities", "low_api_version", 4, "build.bazel.semver.SemVer"},
      {"v2.ServerCapabilities", "high_api_version", 5, "build.bazel.semver.SemVer"},
      {"v2.CacheCapabilities", "digest_functions", 1, "repeated v2.DigestFunction.Value"},
      {"v2.CacheCapabilities", "action_cache_update_capabilities", 2,
       "v2.ActionCacheUpdateCapabilities"},
      {"v2.CacheCapabilities", "cache_priority_capabilities", 3, "v2.PriorityCapabilities"},
      {"v2.CacheCapabilities", "max_batch_total_size_bytes", 4, "int64"},
      {"v2.CacheCapabilities", "symlink_absolute_path_strategy", 5,
       "v2.SymlinkAbsolutePathStrategy.Value"},
      {"v2.CacheCapabilities", "supported_compressors", 6, "repeated v2.Compressor.Value"},
      {"v2.CacheCapabilities", "supported_batch_update_compressors", 7,
       "repeated v2.Compressor.Value"},
      {"v2.CacheCapabilities", "max_cas_blob_size_bytes", 8, "int64"},
      {"v2.CacheCapabilities", "split_blob_support", 9, "bool"},
      {"v2.CacheCapabilities", "splice_blob_support", 10, "bool"},
      {"v2.CacheCapabilities", "fast_cdc_2020_params", 11, "v2.FastCdc2020Params"},
      {"v2.CacheCapabilities", "rep_max_cdc_params", 12, "v2.RepMaxCdcParams"},
      {"v2.FastCdc2020Params", "avg_chunk_size_bytes", 1, "uint64"},
      {"v2.FastCdc2020Params", "seed", 2, "uint32"},
      {"v2.RepMaxCdcParams", "min_chunk_size_bytes", 1, "uint64"},
      {"v2.RepMaxCdcParams", "horizon_size_bytes", 2, "uint64"},
      {"v2.ExecutionCapabilities", "digest_function", 1, "v2.DigestFunction.Value"},
      {"v2.ExecutionCapabilities", "exec_enabled", 2, "bool"},
      {"v2.ExecutionCapabilities", "execution_priority_capabilities", 3, "v2.PriorityCapabilities"},
      {"v2.ExecutionCapabilities", "supported_node_properties", 4, "repeated string"},
      {"v2.ExecutionCapabilities", "digest_functions", 5, "repeated v2.DigestFunction.Value"},
      {"v2.ActionCacheUpdateCapabilities", "update_enabled", 1, "bool"},
      {"v2.PriorityCapabilities", "priorities", 1,
       "repeated v2.PriorityCapabilities.PriorityRange"},
      {"v2.PriorityCapabilities.PriorityRange", "min_priority", 1, "int32"},
      {"v2.PriorityCapabilities.PriorityRange", "max_priority", 2, "int32"},

      // REv2 request metadata
      {"v2.ToolDetails", "tool_name", 1, "string"},
      {"v2.ToolDetails", "tool_version", 2, "string"},
      {"v2.RequestMetadata", "tool_details", 1, "v2.ToolDetails"},
      {"v2.RequestMetadata", "action_id", 2, "string"},
      {"v2.RequestMetadata", "tool_invocation_id", 3, "string"},
      {"v2.RequestMetadata", "correlated_invocations_id", 4, "string"},
      {"v2.RequestMetadata", "action_mnemonic", 5, "string"},
      {"v2.RequestMetadata", "target_id", 6, "string"},
      {"v2.RequestMetadata", "configuration_id", 7, "string"},

      // Remote Asset
      {"asset.Qualifier", "name", 1, "string"},
      {"asset.Qualifier", "value", 2, "string"},
      {"asset.FetchBlobRequest", "instance_name", 1, "string"},
      {"asset.FetchBlobRequest", "timeout", 2, "google.protobuf.Duration"},
      {"asset.FetchBlobRequest", "oldest_content_accepted", 3, "google.protobuf.Timestamp"},
      {"asset.FetchBlobRequest", "uris", 4, "repeated string"},
      {"asset.FetchBlobRequest", "qualifiers", 5, "repeated asset.Qualifier"},
      {"asset.FetchBlobRequest", "digest_function", 6, "v2.DigestFunction.Value"},
      {"asset.FetchDirectoryRequest", "instance_name", 1, "string"},
      {"asset.FetchDirectoryRequest", "timeout", 2, "google.protobuf.Duration"},
      {"asset.FetchDirectoryRequest", "oldest_content_accepted", 3, "google.protobuf.Timestamp"},
      {"asset.FetchDirectoryRequest", "uris", 4, "repeated string"},
      {"asset.FetchDirectoryRequest", "qualifiers", 5, "repeated asset.Qualifier"},
      {"asset.FetchDirectoryRequest", "digest_function", 6, "v2.DigestFunction.Value"},
      {"asset.FetchBlobResponse", "status", 1, "google.rpc.Status"},
      {"asset.FetchBlobResponse", "uri", 2, "string"},
      {"asset.FetchBlobResponse", "qualifiers", 3, "repeated asset.Qualifier"},
      {"asset.FetchBlobResponse", "expires_at", 4, "google.protobuf.Timestamp"},
      {"asset.FetchBlobResponse", "blob_digest", 5, "v2.Digest"},
      {"asset.FetchBlobResponse", "digest_function", 6, "v2.DigestFunction.Value"},
      {"asset.FetchDirectoryResponse", "status", 1, "google.rpc.Status"},
      {"asset.FetchDirectoryResponse", "uri", 2, "string"},
      {"asset.FetchDirectoryResponse", "qualifiers", 3, "repeated asset.Qualifier"},
      {"asset.FetchDirectoryResponse", "expires_at", 4, "google.protobuf.Timestamp"},
      {"asset.FetchDirectoryResponse", "root_directory_digest", 5, "v2.Digest"},
      {"asset.FetchDirectoryResponse", "digest_function", 6, "v2.DigestFunction.Value"},
      {"asset.PushBlobRequest", "instance_name", 1, "string"},
      {"asset.PushBlobRequest", "uris", 2, "repeated string"},
      {"asset.PushBlobRequest", "qualifiers", 3, "repeated asset.Qualifier"},
      {"asset.PushBlobRequest", "expire_at", 4, "google.protobuf.Timestamp"},
      {"asset.PushBlobRequest", "blob_digest", 5, "v2.Digest"},
      {"asset.PushBlobRequest", "references_blobs", 6, "repeated v2.Digest"},
      {"asset.PushBlobRequest", "references_directories", 7, "repeated v2.Digest"},
      {"asset.PushBlobRequest", "digest_function", 8, "v2.DigestFunction.Value"},
      {"asset.PushDirectoryRequest", "instance_name", 1, "string"},
      {"asset.PushDirectoryRequest", "uris", 2, "repeated string"},
      {"asset.PushDirectoryRequest", "qualifiers", 3, "repeated asset.Qualifier"},
      {"asset.PushDirectoryRequest", "expire_at", 4, "google.protobuf.Timestamp"},
      {"asset.PushDirectoryRequest", "root_directory_digest", 5, "v2.Digest"},
      {"asset.PushDirectoryRequest", "references_blobs", 6, "repeated v2.Digest"},
      {"asset.PushDirectoryRequest", "references_directories", 7, "repeated v2.Digest"},
      {"asset.PushDirectoryRequest", "digest_function", 8, "v2.DigestFunction.Value"},

      // build.bazel.remote.logstream.v1
      {"build.bazel.remote.logstream.v1.CreateLogStreamRequest", "parent", 1, "string"},
      {"build.bazel.remote.logstream.v1.LogStream", "name", 1, "string"},
      {"build.bazel.remote.logstream.v1.LogStream", "write_resource_name", 2, "string"},
  };
  return kFields;
}

// The type of `field` written the way UpstreamField::type spells it, but
// with package abbreviations expanded.
std::string DescribeType(const FieldDescriptor& field) {
  std::string type;
  switch (field.type()) {
    case FieldDescriptor::TYPE_MESSAGE:
      type = field.message_type()->full_name();
      break;
    case FieldDescriptor::TYPE_ENUM:
      type = field.enum_type()->full_name();
      break;
    default:
      type = field.type_name();
      break;
  }
  return field.is_repeated() ? "repeated " + type : type;
}

std::string ExpandType(const std::string& type) {
  const std::string repeated = "repeated ";
  if (type.compare(0, repeated.size(), repeated) == 0) {
    return repeated + Expand(type.substr(repeated.size()));
  }
  return Expand(type);
}

TEST(UpstreamField, EveryFieldHasTheUpstreamNumberAndType) {
  for (const UpstreamField& expected : UpstreamFields()) {
    SCOPED_TRACE(Expand(expected.message) + "." + expected.field);
    const Descriptor* message = FindMessage(expected.message);
    ASSERT_NE(message, nullptr);

    const FieldDescriptor* field = message->FindFieldByName(expected.field);
    ASSERT_NE(field, nullptr);
    EXPECT_EQ(field->number(), expected.number);
    EXPECT_EQ(DescribeType(*field), ExpandType(expected.type));
  }
}

// Every field a message declares must appear in the table above, so a field
// added with a made-up number cannot slip through. Map fields are checked
// separately below.
TEST(UpstreamFieldCoverage, EveryDeclaredFieldIsListedInTheFactSheetTable) {
  std::vector<std::string> listed;
  for (const UpstreamField& row : UpstreamFields()) {
    listed.push_back(Expand(row.message) + "." + row.field);
  }
  for (const UpstreamField& row : UpstreamFields()) {
    const Descriptor* message = FindMessage(row.message);
    ASSERT_NE(message, nullptr) << row.message;
    for (int i = 0; i < message->field_count(); ++i) {
      const FieldDescriptor* field = message->field(i);
      if (field->is_map()) continue;
      EXPECT_NE(std::find(listed.begin(), listed.end(), field->full_name()), listed.end())
          << field->full_name() << " = " << field->number();
    }
  }
}

TEST(MapField, ExecuteResponseServerLogsIsAStringToLogFileMapAtNumber4) {
  const FieldDescriptor* field =
      build::bazel::remote::execution::v2::ExecuteResponse::descriptor()->FindFieldByName(
          "server_logs");
  ASSERT_NE(field, nullptr);
  ASSERT_TRUE(field->is_map());
  EXPECT_EQ(field->number(), 4);
  EXPECT_EQ(field->message_type()->map_key()->type(), FieldDescriptor::TYPE_STRING);
  EXPECT_EQ(field->message_type()->map_value()->message_type()->full_name(),
            "build.bazel.remote.execution.v2.LogFile");
}

TEST(MapField, ErrorInfoMetadataIsAStringToStringMapAtNumber3) {
  const FieldDescriptor* field = google::rpc::ErrorInfo::descriptor()->FindFieldByName("metadata");
  ASSERT_NE(field, nullptr);
  ASSERT_TRUE(field->is_map());
  EXPECT_EQ(field->number(), 3);
  EXPECT_EQ(field->message_type()->map_key()->type(), FieldDescriptor::TYPE_STRING);
  EXPECT_EQ(field->message_type()->map_value()->type(), FieldDescriptor::TYPE_STRING);
}

TEST(Oneof, OperationErrorAndResponseShareTheResultOneof) {
  const Descriptor* operation = google::longrunning::Operation::descriptor();
  const google::protobuf::OneofDescriptor* result = operation->FindOneofByName("result");
  ASSERT_NE(result, nullptr);
  ASSERT_EQ(result->field_count(), 2);
  EXPECT_EQ(result->field(0)->number(), 4);
  EXPECT_EQ(result->field(1)->number(), 5);
}

struct ReservedNumbers {
  std::string message;
  std::vector<int> numbers;
};

TEST(ReservedNumbers, UpstreamReservedNumbersAreReservedAndUnused) {
  const std::vector<ReservedNumbers> table = {
      {"v2.Action", {3, 4, 5, 8}}, {"v2.Directory", {4}},     {"v2.FileNode", {3, 5}},
      {"v2.SymlinkNode", {3}},     {"v2.ActionResult", {1}},  {"v2.OutputFile", {3, 6}},
      {"v2.OutputDirectory", {2}}, {"v2.OutputSymlink", {3}}, {"v2.ExecuteRequest", {2, 4, 5}},
  };
  for (const ReservedNumbers& row : table) {
    const Descriptor* message = FindMessage(row.message);
    ASSERT_NE(message, nullptr) << row.message;
    for (int number : row.numbers) {
      EXPECT_TRUE(message->IsReservedNumber(number)) << message->full_name() << " " << number;
      EXPECT_EQ(message->FindFieldByNumber(number), nullptr)
          << message->full_name() << " " << number;
    }
  }
}

}  // namespace
