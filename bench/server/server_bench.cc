// server_bench — cairn-server against the speed targets of issue 9, each
// row next to a baseline timed in the same run. Run as root (bwrap):
//
//   server_bench [--dir DIR] [--upload-mib N] [--upload-runs N] [--rounds N]
//                [--round-trips N] [--execute-runs N] [--keep]
//
// The server is a real cairn-server process (so its memory can be read)
// on 127.0.0.1, its cache directory made under DIR (default /tmp) and
// removed afterwards; every call goes over one loopback channel. Every
// timed step that writes to disk starts after a sync(), so no side pays
// for the writeback of the one before it.
//
//  1. ByteStream Write of a 1 GiB blob in 1 MiB messages, against OpenSSL's
//     EVP SHA-256 hashing the same bytes in the same chunks on one core in
//     this process (the server must hash every byte, so that is the bound).
//     Target: throughput >= 0.5x; the server's VmHWM after it < 100 MiB.
//     The blob is generated chunk by chunk (see GeneratedBlob); its digest
//     comes from the baseline's pass, timed just before each upload.
//  2. FindMissingBlobs of 10,000 digests (half present) in one call and
//     BatchUpdateBlobs of 10,000 blobs of 100 B..1 KiB in calls filling
//     max_batch_total_size_bytes: time per digest, against the same work on
//     a cas-local store opened in this process (what the server adds over
//     the store it wraps). No target. Bazel's client-side numbers are not
//     measured.
//  3. Execute served from the action cache against GetCapabilities (medians
//     of interleaved calls): target <= 3x. Execute of /bin/true with
//     do_not_cache and skip_cache_lookup (so it runs every time) against the
//     whole `cairn run --root DIR -- /bin/true` process on the same busybox
//     root, its store and staged root warm: target <= 1.5x.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>

#include "bench_support.h"
#include "server_process.h"
#include "server_rows.h"

namespace {

using namespace cairn::bench;

void PrintHeader(const Settings& settings) {
  std::printf(
      "server_bench: a cairn-server process on 127.0.0.1, one client channel. Each row:\n"
      "the median of interleaved runs, its baseline's median, and the median of the\n"
      "run-by-run ratios (each run against the baseline timed next to it).\n"
      "  1. ByteStream Write of a %llu MiB blob in 1 MiB messages (generated chunk by chunk),\n"
      "     client start to WriteResponse, vs OpenSSL EVP SHA-256 of the same chunks on one\n"
      "     core in this process; %d runs, a new blob each. Peak memory: the server's VmHWM.\n"
      "     Context, no target: write() of the same bytes to a file beside the server's cache.\n"
      "  2. FindMissingBlobs of %d digests (half present) in one call; BatchUpdateBlobs of\n"
      "     %d blobs of 100 B..1 KiB in calls up to max_batch_total_size_bytes; per digest,\n"
      "     vs a cas-local store opened in this process doing the same (%d rounds). No\n"
      "     target; Bazel's client-side numbers are not measured.\n"
      "  3. Execute answered from the action cache vs GetCapabilities, %d calls each.\n"
      "     Execute of /bin/true with do_not_cache + skip_cache_lookup: the RPC on an open\n"
      "     channel (server: read Action, Command and tree, stage the root, bwrap, store\n"
      "     stdout/stderr, stream Operations) vs the whole `cairn run --root DIR -- /bin/true`\n"
      "     process (start, config, plugins, import DIR through its fingerprint cache, bwrap\n"
      "     on the warm staged root, print, exit); %d runs each, the same busybox root.\n\n",
      static_cast<unsigned long long>(settings.upload_mib), settings.upload_runs,
      settings.small_blobs, settings.small_blobs, settings.rounds, settings.round_trips,
      settings.execute_runs);
}

Settings ParseSettings(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto number = [&] {
      if (i + 1 >= argc) throw BenchError(flag + " needs a value");
      return std::atoll(argv[++i]);
    };
    if (flag == "--dir" && i + 1 < argc) {
      settings.dir = argv[++i];
    } else if (flag == "--upload-mib") {
      settings.upload_mib = static_cast<uint64_t>(number());
    } else if (flag == "--upload-runs") {
      settings.upload_runs = static_cast<int>(number());
    } else if (flag == "--rounds") {
      settings.rounds = static_cast<int>(number());
    } else if (flag == "--round-trips") {
      settings.round_trips = static_cast<int>(number());
    } else if (flag == "--execute-runs") {
      settings.execute_runs = static_cast<int>(number());
    } else if (flag == "--keep") {
      settings.keep = true;
    } else {
      throw BenchError("unknown argument " + flag + " (see the comment atop server_bench.cc)");
    }
  }
  if (settings.upload_mib == 0 || settings.upload_runs < 1 || settings.rounds < 1 ||
      settings.round_trips < 1 || settings.execute_runs < 1) {
    throw BenchError("every count must be at least 1");
  }
  return settings;
}

// The end of the server's log, which says what it saw of a failed call.
void PrintLogTail(const std::string& path) {
  std::ifstream log(path);
  std::deque<std::string> last;
  for (std::string line; std::getline(log, line);) {
    last.push_back(line);
    if (last.size() > 20) last.pop_front();
  }
  if (last.empty()) return;
  std::fprintf(stderr, "the last lines of the server's log:\n");
  for (const std::string& line : last) std::fprintf(stderr, "  %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  Settings settings;
  int exit_code = 0;
  try {
    settings = ParseSettings(argc, argv);
    if (geteuid() != 0) throw BenchError("run as root: the server executes in bwrap");
    std::string pattern = settings.dir + "/cairn-server-bench-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      throw BenchError("cannot make a directory in " + settings.dir + ": " + std::strerror(errno));
    }
    dir = pattern;
    PrintHeader(settings);
    auto server = ServerProcess::Start(
        CAIRN_SERVER_BINARY,
        {"--cache-dir", dir + "/server-cache", "--plugin-path", CAIRN_PLUGIN_DIR},
        dir + "/server.log");
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(-1);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server->port()),
                                  grpc::InsecureChannelCredentials(), arguments);
    auto capabilities = reapi::Capabilities::NewStub(channel);
    reapi::ServerCapabilities answer;
    Check(
        capabilities->GetCapabilities(Context(30).get(), reapi::GetCapabilitiesRequest(), &answer),
        "GetCapabilities");
    // Batches stay within the announced limit and gRPC's default 4 MiB
    // receive limit, whichever is smaller, less room for the envelope.
    uint64_t batch_limit = answer.cache_capabilities().max_batch_total_size_bytes();
    if (batch_limit == 0 || batch_limit > (4u << 20)) batch_limit = 4u << 20;
    batch_limit -= 16 << 10;

    UploadRows(settings, dir, *server, channel);
    CasRows(settings, dir, channel, batch_limit);
    ExecuteRows(settings, dir, channel, batch_limit);
    int stopped = server->Stop();
    if (stopped != 0) std::printf("  (the server exited with status %d on SIGTERM)\n", stopped);
  } catch (const BenchError& error) {
    std::fprintf(stderr, "server_bench: %s\n", error.what());
    exit_code = 1;
    if (!dir.empty()) PrintLogTail(dir + "/server.log");
  }
  if (!dir.empty()) {
    if (settings.keep) {
      std::printf("kept %s\n", dir.c_str());
    } else {
      RunProcess({"/bin/rm", "-rf", dir}, {});
    }
  }
  return exit_code;
}
