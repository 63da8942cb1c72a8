// execute_rows.cc — row 3 of server_bench: Execute, from the action cache
// and run in the sandbox.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "server_rows.h"

namespace cairn::bench {

namespace {

// Runs the Action; returns the gRPC status and, when OK, the response of
// the done Operation.
grpc::Status Execute(reapi::Execution::Stub& execution, const Digest& action,
                     bool skip_cache_lookup, reapi::ExecuteResponse* response) {
  reapi::ExecuteRequest request;
  *request.mutable_action_digest() = action;
  request.set_skip_cache_lookup(skip_cache_lookup);
  auto context = Context(120);
  auto reader = execution.Execute(context.get(), request);
  google::longrunning::Operation operation;
  bool done = false;
  while (reader->Read(&operation)) {
    if (operation.done()) {
      done = true;
      if (operation.has_error()) {
        return grpc::Status(grpc::StatusCode::INTERNAL,
                            "Operation.error set: " + operation.error().message());
      }
      if (!operation.response().UnpackTo(response)) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "Operation.response is no ExecuteResponse");
      }
    }
  }
  grpc::Status status = reader->Finish();
  if (status.ok() && !done) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the stream ended without a done Operation");
  }
  return status;
}

void CheckRan(const reapi::ExecuteResponse& response, bool cached) {
  if (response.status().code() != 0 || response.result().exit_code() != 0 ||
      response.cached_result() != cached) {
    throw BenchError("Execute of /bin/true: status " + std::to_string(response.status().code()) +
                     " (" + response.status().message() + "), exit code " +
                     std::to_string(response.result().exit_code()) + ", cached_result " +
                     (response.cached_result() ? "true" : "false"));
  }
}

std::string ReadFile(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw BenchError("cannot read " + path + ": " + std::strerror(errno));
  std::string data;
  char buffer[65536];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) data.append(buffer, got);
  std::fclose(file);
  return data;
}

}  // namespace

void ExecuteRows(const Settings& settings, const std::string& dir,
                 const std::shared_ptr<grpc::Channel>& channel, uint64_t batch_limit) {
  auto cas = reapi::ContentAddressableStorage::NewStub(channel);
  auto execution = reapi::Execution::NewStub(channel);
  auto capabilities = reapi::Capabilities::NewStub(channel);

  // The root on disk for `cairn run` and the same tree in the server's CAS:
  // bin/busybox (static) and bin/true -> busybox.
  std::string root = dir + "/root";
  mkdir(root.c_str(), 0755);
  mkdir((root + "/bin").c_str(), 0755);
  std::vector<Blob> blobs(1);
  blobs[0].data = ReadFile("/bin/busybox");
  blobs[0].digest = DigestOfBytes(blobs[0].data);
  FILE* copy = std::fopen((root + "/bin/busybox").c_str(), "wb");
  if (copy == nullptr) throw BenchError("cannot write " + root + "/bin/busybox");
  std::fwrite(blobs[0].data.data(), 1, blobs[0].data.size(), copy);
  std::fclose(copy);
  chmod((root + "/bin/busybox").c_str(), 0755);
  if (symlink("busybox", (root + "/bin/true").c_str()) != 0) throw BenchError("symlink bin/true");

  auto add_message = [&](const google::protobuf::MessageLite& message) {
    blobs.push_back({message.SerializeAsString(), DigestOfMessage(message)});
    return blobs.back().digest;
  };
  reapi::Directory bin;
  auto* file = bin.add_files();
  file->set_name("busybox");
  *file->mutable_digest() = blobs[0].digest;
  file->set_is_executable(true);
  auto* link = bin.add_symlinks();
  link->set_name("true");
  link->set_target("busybox");
  reapi::Directory top;
  auto* bin_node = top.add_directories();
  bin_node->set_name("bin");
  *bin_node->mutable_digest() = add_message(bin);
  Digest root_digest = add_message(top);
  reapi::Command command;
  command.add_arguments("/bin/true");
  reapi::Action action;
  *action.mutable_command_digest() = add_message(command);
  *action.mutable_input_root_digest() = root_digest;
  Digest cached_action = add_message(action);
  action.set_do_not_cache(true);
  Digest uncached_action = add_message(action);
  BatchUpload(*cas, blobs, batch_limit);

  // Warm-up: the first Execute runs and caches; later ones are hits.
  reapi::ExecuteResponse response;
  grpc::Status first = Execute(*execution, cached_action, false, &response);
  if (first.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    std::printf("  Execute rows skipped: the server answers Execute with UNIMPLEMENTED (%s)\n",
                first.error_message().c_str());
    return;
  }
  Check(first, "Execute of /bin/true");
  CheckRan(response, false);

  // Each pair in turn order A B, B A, ..., so neither side always runs
  // right after the other.
  std::vector<double> hit, capability;
  auto time_hit = [&] {
    hit.push_back(SecondsOf([&] {
      Check(Execute(*execution, cached_action, false, &response), "Execute (cache hit)");
    }));
    CheckRan(response, true);
  };
  auto time_capabilities = [&] {
    capability.push_back(SecondsOf([&] {
      reapi::GetCapabilitiesRequest request;
      reapi::ServerCapabilities answer;
      Check(capabilities->GetCapabilities(Context(30).get(), request, &answer), "GetCapabilities");
    }));
  };
  for (int i = 0; i < settings.round_trips; ++i) {
    if (i % 2 == 0) time_hit();
    time_capabilities();
    if (i % 2 == 1) time_hit();
  }
  double hit_ms = Median(hit) * 1e3, capability_ms = Median(capability) * 1e3;
  Row("Execute, cache hit (" + std::to_string(settings.round_trips) + " calls)",
      Format("%.3f ms", hit_ms), Format("GetCapabilities %.3f ms", capability_ms),
      MedianRatio(hit, capability), "target <= 3", MedianRatio(hit, capability) <= 3);

  std::vector<std::string> cairn_run = {CAIRN_BINARY,
                                        "--cache-dir",
                                        dir + "/cairn-cache",
                                        "--plugin-path",
                                        CAIRN_PLUGIN_DIR,
                                        "--sandbox",
                                        "bwrap",
                                        "run",
                                        "--root",
                                        root,
                                        "--",
                                        "/bin/true"};
  std::vector<std::string> environment = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir,
                                          "XDG_CONFIG_HOME=" + dir + "/config",
                                          "XDG_CACHE_HOME=" + dir + "/xdg-cache"};
  auto run_locally = [&] {
    int status = RunProcess(cairn_run, environment);
    if (status != 0) throw BenchError("cairn run exited with status " + std::to_string(status));
  };
  // Warm-up: import the root and stage it once on each side.
  for (int i = 0; i < 2; ++i) {
    run_locally();
    Check(Execute(*execution, uncached_action, true, &response), "Execute (cache miss)");
    CheckRan(response, false);
  }
  std::vector<double> miss, local;
  auto time_miss = [&] {
    miss.push_back(SecondsOf([&] {
      Check(Execute(*execution, uncached_action, true, &response), "Execute (cache miss)");
    }));
    CheckRan(response, false);
  };
  for (int i = 0; i < settings.execute_runs; ++i) {
    if (i % 2 == 0) time_miss();
    local.push_back(SecondsOf(run_locally));
    if (i % 2 == 1) time_miss();
  }
  double miss_ms = Median(miss) * 1e3, local_ms = Median(local) * 1e3;
  Row("Execute /bin/true, cache miss (" + std::to_string(settings.execute_runs) + " runs)",
      Format("%.2f ms", miss_ms), Format("cairn run %.2f ms", local_ms), MedianRatio(miss, local),
      "target <= 1.5", MedianRatio(miss, local) <= 1.5);
}

}  // namespace cairn::bench
