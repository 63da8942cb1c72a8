// `cairn cas`: the content-addressable store from the command line.
//
// Works on the configured store through the Storage interface alone (plus
// cairn/merkle.h for listings), so it behaves the same on any backend.
#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <ostream>

#include "cairn/blob_stream.h"
#include "cairn/host/arg_parser.h"
#include "cairn/host/command.h"
#include "cairn/host/command_context.h"
#include "cairn/json_writer.h"
#include "cairn/merkle.h"
#include "cairn/plugin_options.h"
#include "cairn/quote.h"

namespace cairn {
namespace {

const char kHelp[] =
    "Usage: cairn cas SUBCOMMAND [ARGS...]\n"
    "\n"
    "The content-addressable store (the storage plugin configured in\n"
    "cairn.yaml, cas-local by default). Digests are written HASH/SIZE.\n"
    "\n"
    "Subcommands:\n"
    "  import DIR [--tree]          store DIR as a Merkle tree; print its root digest\n"
    "  stage DIGEST DIR [--hardlinks]\n"
    "                               materialise a tree into DIR (created if absent)\n"
    "  cat DIGEST                   write a blob to standard output\n"
    "  ls DIGEST                    list a tree: mode, digest and path of every entry\n"
    "  fsck [--no-repair]           verify every object; remove corrupt ones\n"
    "  gc [--to SIZE]               evict least-recently-used blobs down to SIZE\n"
    "                               (default: the quota's low watermark)\n"
    "  stats                        objects, bytes, quota, action results, references\n"
    "\n"
    "`cairn cas SUBCOMMAND --help` describes each one.\n"
    "\n"
    "Exit status: 0 on success; 1 when fsck found problems; 2 for a bad\n"
    "command line; 3 configuration, 4 plugin, 5 storage errors.\n";

// Parses `args` for a subcommand; returns -1 to continue, else an exit code.
int ParseArgs(CommandContext& context, ArgParser& parser, const std::string& name,
              const char* usage, const std::vector<std::string>& args, size_t min_positional,
              size_t max_positional, std::vector<std::string>* positional) {
  Status parsed = parser.Parse(args, positional);
  if (parser.help_requested()) {
    context.out() << usage << "\nOptions:\n" << parser.OptionsHelp();
    return kExitOk;
  }
  if (!parsed.ok()) return context.UsageError("cas " + name, parsed.message());
  if (positional->size() < min_positional) {
    return context.UsageError("cas " + name, "missing argument (see --help)");
  }
  if (positional->size() > max_positional) {
    return context.UsageError("cas " + name,
                              "unexpected argument " + QuoteName((*positional)[max_positional]));
  }
  return -1;
}

int UsageDigest(CommandContext& context, const std::string& name, const std::string& text,
                Digest* digest) {
  StatusOr<Digest> parsed = ParseDigest(text);
  if (!parsed.ok()) return context.UsageError("cas " + name, parsed.status().message());
  *digest = *parsed;
  return -1;
}

const char kImportUsage[] =
    "Usage: cairn cas import DIR [--tree]\n"
    "\n"
    "Stores DIR and everything below it as a canonical REAPI Merkle tree and\n"
    "prints the root Directory's digest. With --tree, also stores a REAPI Tree\n"
    "message and prints its digest on a second line.\n";

int RunImport(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("cas import");
  bool tree = false;
  parser.AddSwitch("tree", &tree, "also store and print a REAPI Tree message");
  std::vector<std::string> positional;
  int early = ParseArgs(context, parser, "import", kImportUsage, args, 1, 1, &positional);
  if (early >= 0) return early;
  StatusOr<std::shared_ptr<Storage>> storage = context.OpenStorage();
  if (!storage.ok()) return context.Fail(storage.status());
  CaptureOptions options;
  options.store_tree = tree;
  StatusOr<CapturedTree> captured = (*storage)->CaptureTree(positional[0], options);
  if (!captured.ok())
    return context.Fail(captured.status().WithContext("importing " + QuoteName(positional[0])));
  context.out() << DigestToString(captured->root) << "\n";
  if (captured->tree) context.out() << DigestToString(*captured->tree) << "\n";
  return kExitOk;
}

const char kStageUsage[] =
    "Usage: cairn cas stage DIGEST DIR [--hardlinks]\n"
    "\n"
    "Materialises the tree whose root Directory is DIGEST into DIR (created\n"
    "when absent; entries already there are never overwritten). Files are\n"
    "0644 or 0755 with mtime 2011-11-11 11:11:11 UTC. With --hardlinks,\n"
    "non-executable files are read-only hard links into the store (the\n"
    "fastest stage, for read-only use).\n";

int RunStage(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("cas stage");
  bool hardlinks = false;
  parser.AddSwitch("hardlinks", &hardlinks, "hardlink files from the store (read-only use)");
  std::vector<std::string> positional;
  int early = ParseArgs(context, parser, "stage", kStageUsage, args, 2, 2, &positional);
  if (early >= 0) return early;
  Digest root;
  early = UsageDigest(context, "stage", positional[0], &root);
  if (early >= 0) return early;
  StatusOr<std::shared_ptr<Storage>> storage = context.OpenStorage();
  if (!storage.ok()) return context.Fail(storage.status());
  if (::mkdir(positional[1].c_str(), 0755) != 0 && errno != EEXIST) {
    return context.Fail(ErrnoStatus("create directory", QuoteName(positional[1]), errno));
  }
  StageOptions options;
  options.hardlinks = hardlinks;
  Status status = (*storage)->StageTree(root, positional[1], options);
  if (!status.ok()) return context.Fail(status.WithContext("staging " + positional[0]));
  return kExitOk;
}

const char kCatUsage[] =
    "Usage: cairn cas cat DIGEST\n"
    "\n"
    "Writes the blob DIGEST to standard output, in pieces (any size works).\n";

int RunCat(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("cas cat");
  std::vector<std::string> positional;
  int early = ParseArgs(context, parser, "cat", kCatUsage, args, 1, 1, &positional);
  if (early >= 0) return early;
  Digest digest;
  early = UsageDigest(context, "cat", positional[0], &digest);
  if (early >= 0) return early;
  StatusOr<std::shared_ptr<Storage>> storage = context.OpenStorage();
  if (!storage.ok()) return context.Fail(storage.status());
  Status written = WriteBlobTo(**storage, digest, context.out());
  if (!written.ok()) return context.Fail(written);
  return kExitOk;
}

const char kLsUsage[] =
    "Usage: cairn cas ls DIGEST [--format text|json]\n"
    "\n"
    "Lists the tree whose root Directory is DIGEST, one entry per line:\n"
    "  MODE DIGEST PATH            files (-rw-r--r-- or -rwxr-xr-x) and\n"
    "                              directories (drwxr-xr-x, PATH ends in /)\n"
    "  lrwxrwxrwx - PATH -> TARGET symlinks\n"
    "A PATH or TARGET holding a space, a quote, a backslash, a control\n"
    "character or bytes that are not UTF-8 is printed in double quotes,\n"
    "escaped C-style (\\n, \\\", \\ooo octal), so every entry is one line.\n"
    "\n"
    "With --format json, prints one JSON array of objects instead:\n"
    "  {\"type\": \"file\", \"path\": ..., \"digest\": ..., \"executable\": ...}\n"
    "  {\"type\": \"directory\", \"path\": ..., \"digest\": ...}\n"
    "  {\"type\": \"symlink\", \"path\": ..., \"target\": ...}\n"
    "Bytes of a name that are not UTF-8 are written as \\udcXX (XX the\n"
    "byte, 80 to ff).\n";

// One Directory of the listing, as text lines.
void ListText(std::ostream& out, const std::string& prefix, const Directory& directory) {
  for (const FileNode& file : directory.files()) {
    out << (file.is_executable() ? "-rwxr-xr-x " : "-rw-r--r-- ") << DigestToString(file.digest())
        << " " << QuoteName(prefix + file.name()) << "\n";
  }
  for (const DirectoryNode& child : directory.directories()) {
    out << "drwxr-xr-x " << DigestToString(child.digest()) << " "
        << QuoteName(prefix + child.name() + "/") << "\n";
  }
  for (const SymlinkNode& link : directory.symlinks()) {
    out << "lrwxrwxrwx - " << QuoteName(prefix + link.name()) << " -> " << QuoteName(link.target())
        << "\n";
  }
}

// One Directory of the listing, as members of the JSON array.
void ListJson(JsonWriter& json, const std::string& prefix, const Directory& directory) {
  for (const FileNode& file : directory.files()) {
    json.BeginObject().Key("type").String("file").Key("path").String(prefix + file.name());
    json.Key("digest").String(DigestToString(file.digest()));
    json.Key("executable").Bool(file.is_executable()).EndObject();
  }
  for (const DirectoryNode& child : directory.directories()) {
    json.BeginObject().Key("type").String("directory").Key("path").String(prefix + child.name());
    json.Key("digest").String(DigestToString(child.digest())).EndObject();
  }
  for (const SymlinkNode& link : directory.symlinks()) {
    json.BeginObject().Key("type").String("symlink").Key("path").String(prefix + link.name());
    json.Key("target").String(link.target()).EndObject();
  }
}

int RunLs(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("cas ls");
  std::string format = "text";
  parser.AddString("format", &format, "text (default) or json");
  std::vector<std::string> positional;
  int early = ParseArgs(context, parser, "ls", kLsUsage, args, 1, 1, &positional);
  if (early >= 0) return early;
  if (format != "text" && format != "json") {
    return context.UsageError("cas ls", "--format must be text or json, not " + QuoteName(format));
  }
  Digest root;
  early = UsageDigest(context, "ls", positional[0], &root);
  if (early >= 0) return early;
  StatusOr<std::shared_ptr<Storage>> storage = context.OpenStorage();
  if (!storage.ok()) return context.Fail(storage.status());
  JsonWriter json;
  json.BeginArray();
  Status status = WalkTree(**storage, root,
                           [&](const std::string& path, const Digest&, const Directory& directory) {
                             std::string prefix = path.empty() ? "" : path + "/";
                             if (format == "json") {
                               ListJson(json, prefix, directory);
                             } else {
                               ListText(context.out(), prefix, directory);
                             }
                             return Status::Ok();
                           });
  if (!status.ok()) return context.Fail(status.WithContext("listing " + positional[0]));
  if (format == "json") context.out() << json.EndArray().text() << "\n";
  return kExitOk;
}

const char kFsckUsage[] =
    "Usage: cairn cas fsck [--no-repair]\n"
    "\n"
    "Re-hashes every object of the store and checks the action cache and the\n"
    "references. Corrupt entries are reported, one line each, and removed\n"
    "(unless --no-repair), so they count as missing from then on.\n"
    "Exit status 0 when nothing was wrong, 1 when problems were found.\n";

int RunFsck(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("cas fsck");
  bool no_repair = false;
  parser.AddSwitch("no-repair", &no_repair, "report only; remove nothing");
  std::vector<std::string> positional;
  int early = ParseArgs(context, parser, "fsck", kFsckUsage, args, 0, 0, &positional);
  if (early >= 0) return early;
  StatusOr<std::shared_ptr<Storage>> storage = context.OpenStorage();
  if (!storage.ok()) return context.Fail(storage.status());
  StatusOr<VerifyReport> report = (*storage)->Verify(!no_repair);
  if (!report.ok()) return context.Fail(report.status().WithContext("verifying the store"));
  context.out() << report->lines;
  if (report->problems == 0) {
    context.out() << "fsck: no problems found\n";
    return kExitOk;
  }
  context.out() << "fsck: " << report->problems << " problem(s) found"
                << (no_repair ? "" : " and repaired") << "\n";
  return kExitFailed;
}

const char kGcUsage[] =
    "Usage: cairn cas gc [--to SIZE]\n"
    "\n"
    "Evicts least-recently-used blobs until the store holds at most SIZE\n"
    "(e.g. 10G, 512M; default: the quota's low watermark). Blobs in use by\n"
    "a running build or server are never evicted.\n";

int RunGc(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("cas gc");
  uint64_t target = 0;
  bool target_given = false;
  parser.AddCustom(
      "to",
      [&](const std::string& text) -> Status {
        StatusOr<uint64_t> bytes = ParseByteSize(text);
        if (!bytes.ok()) return bytes.status().WithContext("--to");
        target = *bytes;
        target_given = true;
        return Status::Ok();
      },
      "the size to collect down to");
  std::vector<std::string> positional;
  int early = ParseArgs(context, parser, "gc", kGcUsage, args, 0, 0, &positional);
  if (early >= 0) return early;
  StatusOr<std::shared_ptr<Storage>> storage = context.OpenStorage();
  if (!storage.ok()) return context.Fail(storage.status());
  // 0 asks the store for its low watermark; "--to 0" means empty, i.e. 1 byte.
  StatusOr<uint64_t> freed = (*storage)->CollectGarbage(target_given && target == 0 ? 1 : target);
  if (!freed.ok()) return context.Fail(freed.status());
  context.out() << "gc: freed " << *freed << " bytes\n";
  return kExitOk;
}

const char kStatsUsage[] =
    "Usage: cairn cas stats\n"
    "\n"
    "Prints the store's object count and size, quota and watermarks, and the\n"
    "number of action results and references.\n";

int RunStats(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("cas stats");
  std::vector<std::string> positional;
  int early = ParseArgs(context, parser, "stats", kStatsUsage, args, 0, 0, &positional);
  if (early >= 0) return early;
  StatusOr<std::shared_ptr<Storage>> storage = context.OpenStorage();
  if (!storage.ok()) return context.Fail(storage.status());
  StatusOr<StorageStats> stats = (*storage)->Stats();
  if (!stats.ok()) return context.Fail(stats.status());
  std::ostream& out = context.out();
  out << "objects:          " << stats->object_count << "\n"
      << "bytes:            " << stats->total_bytes << "\n";
  if (stats->quota_bytes > 0) {
    out << "quota:            " << stats->quota_bytes << "\n"
        << "high watermark:   " << stats->high_watermark_bytes << "\n"
        << "low watermark:    " << stats->low_watermark_bytes << "\n";
  } else {
    out << "quota:            none\n";
  }
  out << "action results:   " << stats->action_result_count << "\n"
      << "references:       " << stats->reference_count << "\n";
  return kExitOk;
}

int RunCas(CommandContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    context.out() << kHelp;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string& name = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (name == "import") return RunImport(context, rest);
  if (name == "stage") return RunStage(context, rest);
  if (name == "cat") return RunCat(context, rest);
  if (name == "ls") return RunLs(context, rest);
  if (name == "fsck") return RunFsck(context, rest);
  if (name == "gc") return RunGc(context, rest);
  if (name == "stats") return RunStats(context, rest);
  return context.UsageError("cas", "unknown subcommand '" + name + "'");
}

}  // namespace

extern const CommandSpec kCasCommand = {"cas", "import, stage, inspect and maintain the store",
                                        kHelp, &RunCas};

}  // namespace cairn
