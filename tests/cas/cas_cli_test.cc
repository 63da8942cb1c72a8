// cas_cli_test — `cairn cas` end to end: the real `cairn` executable run as a
// child process, against the real cas-local plugin it finds beside itself.
//
// Each test gets its own cache directory (--cache-dir, so the store is
// <cache>/cas), an empty XDG_CONFIG_HOME (the developer's config.yaml must
// not leak in), and runs in an empty working directory (no cairn.yaml above
// it to pick up). Expected digests are built here from the REAPI messages,
// independently of the plugin's capture code.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <ostream>
#include <regex>
#include <string>
#include <vector>

#include "../common/json_reader.h"
#include "cairn/digest.h"
#include "cairn/merkle.h"
#include "cas_test_util.h"

extern char** environ;

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr time_t kStagedMtime = 1321009871;  // 2011-11-11 11:11:11 UTC
const char kScript[] = "#!/bin/sh\necho hi\n";
const char kText[] = "hello\n";

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Prints the exit code and both streams when an assertion fails.
std::ostream& operator<<(std::ostream& os, const CliResult& result) {
  return os << "exit " << result.exit_code << "\n--- stdout\n"
            << result.out << "--- stderr\n"
            << result.err;
}

// Every object file below objects/ (the two-level sharded layout).
std::vector<std::string> ObjectFiles(const std::string& objects) {
  std::vector<std::string> files;
  DIR* shards = ::opendir(objects.c_str());
  if (shards == nullptr) return files;
  while (struct dirent* shard = ::readdir(shards)) {
    if (shard->d_name[0] == '.') continue;
    std::string shard_path = objects + "/" + shard->d_name;
    DIR* entries = ::opendir(shard_path.c_str());
    if (entries == nullptr) continue;
    while (struct dirent* entry = ::readdir(entries)) {
      if (entry->d_name[0] != '.') files.push_back(shard_path + "/" + entry->d_name);
    }
    ::closedir(entries);
  }
  ::closedir(shards);
  return files;
}

class CasCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeDir(temp_ / "config");  // XDG_CONFIG_HOME: deliberately empty
    MakeDir(temp_ / "cwd");
    MakeDir(Source());
    WriteFile(Source() + "/a.txt", kText, 0644);
    MakeDir(Source() + "/empty");
    MakeSymlink("a.txt", Source() + "/link");
    MakeDir(Source() + "/sub");
    WriteFile(Source() + "/sub/run.sh", kScript, 0755);
  }

  std::string Source() const { return temp_ / "src"; }
  std::string CacheDir() const { return temp_ / "cache"; }
  std::string ObjectsDir() const { return CacheDir() + "/cas/objects"; }

  // Runs `cairn --cache-dir CACHE ARGS...` and collects its streams.
  CliResult Cairn(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {CAIRN_BINARY, "--cache-dir", CacheDir()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      std::string text = *entry;
      if (text.rfind("XDG_", 0) == 0 || text.rfind("CAIRN_", 0) == 0) continue;
      env.push_back(text);
    }
    env.push_back("XDG_CONFIG_HOME=" + temp_ / "config");
    env.push_back("XDG_CACHE_HOME=" + temp_ / "xdg-cache");
    std::vector<char*> argv_pointers;
    for (std::string& arg : argv) argv_pointers.push_back(arg.data());
    argv_pointers.push_back(nullptr);
    std::vector<char*> env_pointers;
    for (std::string& entry : env) env_pointers.push_back(entry.data());
    env_pointers.push_back(nullptr);

    // Files rather than pipes: no deadlock however much either stream holds.
    std::string out_path = temp_ / "stdout";
    std::string err_path = temp_ / "stderr";
    std::string cwd = temp_ / "cwd";
    int out_fd = ::open(out_path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    int err_fd = ::open(err_path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    EXPECT_GE(out_fd, 0);
    EXPECT_GE(err_fd, 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec.
      if (::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0 || ::chdir(cwd.c_str()) != 0) _exit(126);
      ::execve(argv_pointers[0], argv_pointers.data(), env_pointers.data());
      _exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    CliResult result;
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = ReadFile(out_path);
    result.err = ReadFile(err_path);
    return result;
  }

  // `cas import SOURCE`, asserting success; the printed root digest.
  std::string Import(const std::string& dir) {
    CliResult result = Cairn({"cas", "import", dir});
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.err, "") << result;
    std::string line = result.out;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }

  // The garbage collector spares objects used in the second its own lease
  // started (they may belong to a build still running). Waits until every
  // object's last use, max(atime, ctime), lies in an earlier second.
  void WaitUntilObjectsAreFromAnEarlierSecond() {
    time_t newest = 0;
    for (const std::string& file : ObjectFiles(ObjectsDir())) {
      struct stat st = Lstat(file);
      newest = std::max({newest, st.st_atim.tv_sec, st.st_ctim.tv_sec});
    }
    while (::time(nullptr) <= newest) ::usleep(20000);
  }

  TempDir temp_;
};

// The tree of SetUp, built from REAPI messages without the plugin.
Digest ExpectedRootDigest() {
  Directory sub;
  FileNode* script = sub.add_files();
  script->set_name("run.sh");
  *script->mutable_digest() = DigestOfBytes(kScript);
  script->set_is_executable(true);

  Directory root;
  FileNode* text = root.add_files();
  text->set_name("a.txt");
  *text->mutable_digest() = DigestOfBytes(kText);
  DirectoryNode* empty = root.add_directories();
  empty->set_name("empty");
  *empty->mutable_digest() = DigestOfMessage(Directory());
  DirectoryNode* sub_node = root.add_directories();
  sub_node->set_name("sub");
  *sub_node->mutable_digest() = DigestOfMessage(sub);
  SymlinkNode* link = root.add_symlinks();
  link->set_name("link");
  link->set_target("a.txt");
  return DigestOfMessage(root);
}

std::string Hex64(char c) { return std::string(64, c); }

TEST_F(CasCliTest, ImportPrintsTheRootDigestOfTheCanonicalMerkleTree) {
  CliResult result = Cairn({"cas", "import", Source()});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, DigestToString(ExpectedRootDigest()) + "\n");
}

TEST_F(CasCliTest, ImportingTheSameTreeTwicePrintsTheSameDigest) {
  std::string first = Import(Source());
  EXPECT_EQ(Import(Source()), first);
}

TEST_F(CasCliTest, ImportWithTreeAlsoPrintsTheDigestOfAStoredTreeMessage) {
  CliResult result = Cairn({"cas", "import", Source(), "--tree"});
  ASSERT_EQ(result.exit_code, 0) << result;
  std::regex two_digests("([0-9a-f]{64}/[0-9]+)\n([0-9a-f]{64}/[0-9]+)\n");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(result.out, match, two_digests)) << result;
  EXPECT_EQ(match[1].str(), DigestToString(ExpectedRootDigest()));
  CliResult tree = Cairn({"cas", "cat", match[2].str()});
  ASSERT_EQ(tree.exit_code, 0) << tree;
  Tree parsed;
  ASSERT_TRUE(parsed.ParseFromString(tree.out));
  EXPECT_EQ(DigestOfMessage(parsed.root()), ExpectedRootDigest());
}

TEST_F(CasCliTest, LsListsModeDigestAndPathOfEveryEntryIncludingExecutablesAndSymlinks) {
  std::string root = Import(Source());
  CliResult result = Cairn({"cas", "ls", root});
  ASSERT_EQ(result.exit_code, 0) << result;
  std::string text_digest = DigestToString(DigestOfBytes(kText));
  std::string script_digest = DigestToString(DigestOfBytes(kScript));
  std::string empty_digest = DigestToString(DigestOfMessage(Directory()));
  EXPECT_THAT(result.out, HasSubstr("-rw-r--r-- " + text_digest + " a.txt\n"));
  EXPECT_THAT(result.out, HasSubstr("-rwxr-xr-x " + script_digest + " sub/run.sh\n"));
  EXPECT_THAT(result.out, HasSubstr("drwxr-xr-x " + empty_digest + " empty/\n"));
  EXPECT_THAT(result.out, ::testing::ContainsRegex("drwxr-xr-x [0-9a-f]{64}/[0-9]+ sub/\n"));
  EXPECT_THAT(result.out, HasSubstr("lrwxrwxrwx - link -> a.txt\n"));
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 5) << result;
}

TEST_F(CasCliTest, StageWithHardlinksReproducesContentsExecBitsSymlinksAndTheFixedMtime) {
  std::string root = Import(Source());
  std::string staged = temp_ / "staged";
  CliResult result = Cairn({"cas", "stage", root, staged, "--hardlinks"});
  ASSERT_EQ(result.exit_code, 0) << result;

  EXPECT_EQ(ReadFile(staged + "/a.txt"), kText);
  EXPECT_EQ(ReadFile(staged + "/sub/run.sh"), kScript);
  struct stat text = Lstat(staged + "/a.txt");
  struct stat script = Lstat(staged + "/sub/run.sh");
  EXPECT_TRUE(S_ISREG(text.st_mode));
  EXPECT_EQ(text.st_mode & 0111, 0u) << std::oct << text.st_mode;
  // Executables hardlink too, to the store's read-only executable variant.
  EXPECT_EQ(script.st_mode & 0777, 0555u) << std::oct << script.st_mode;
  EXPECT_GE(text.st_nlink, 2u) << "a.txt should be a hard link into the store";
  EXPECT_GE(script.st_nlink, 2u) << "run.sh should be a hard link into the store";
  EXPECT_EQ(text.st_mtim.tv_sec, kStagedMtime);
  EXPECT_EQ(script.st_mtim.tv_sec, kStagedMtime);

  struct stat link = Lstat(staged + "/link");
  ASSERT_TRUE(S_ISLNK(link.st_mode));
  char target[64] = {};
  ASSERT_EQ(::readlink((staged + "/link").c_str(), target, sizeof(target) - 1), 5);
  EXPECT_STREQ(target, "a.txt");
  EXPECT_TRUE(S_ISDIR(Lstat(staged + "/empty").st_mode));

  // The staged tree imports back to the same root.
  EXPECT_EQ(Import(staged), root);
}

TEST_F(CasCliTest, CatOfAFileBlobPrintsItsBytes) {
  Import(Source());
  CliResult result = Cairn({"cas", "cat", DigestToString(DigestOfBytes(kScript))});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, kScript);
}

TEST_F(CasCliTest, CatOfABlobLargerThanOnePieceReassemblesEveryByte) {
  std::string big;
  for (int i = 0; big.size() < (9u << 20); ++i) big += std::to_string(i) + ",";
  WriteFile(Source() + "/big", big);
  Import(Source());
  CliResult result = Cairn({"cas", "cat", DigestToString(DigestOfBytes(big))});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out == big) << "got " << result.out.size() << " bytes, want " << big.size();
}

TEST_F(CasCliTest, StatsShowsTheObjectCount) {
  Import(Source());
  CliResult result = Cairn({"cas", "stats"});
  ASSERT_EQ(result.exit_code, 0) << result;
  // a.txt, run.sh, the Directory messages of sub and of the root, and the
  // empty blob (which is also the empty Directory).
  EXPECT_THAT(result.out, HasSubstr("objects:          5\n"));
  EXPECT_EQ(ObjectFiles(ObjectsDir()).size(), 5u);
}

TEST_F(CasCliTest, FsckExitsZeroOnACleanStore) {
  Import(Source());
  CliResult result = Cairn({"cas", "fsck"});
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_THAT(result.out, HasSubstr("no problems found"));
}

TEST_F(CasCliTest, FsckExitsOneOnACorruptObjectRemovesItAndExitsZeroOnTheNextRun) {
  Import(Source());
  std::string hash = DigestOfBytes(kScript).hash();
  std::string object = ObjectsDir() + "/" + hash.substr(0, 2) + "/" + hash.substr(2);
  ASSERT_TRUE(Exists(object));
  ASSERT_EQ(::chmod(object.c_str(), 0644), 0);
  std::string bytes = ReadFile(object);
  bytes[3] ^= 0x20;
  WriteFile(object, bytes, 0444);

  CliResult damaged = Cairn({"cas", "fsck"});
  EXPECT_EQ(damaged.exit_code, 1) << damaged;
  EXPECT_THAT(damaged.out, HasSubstr(hash)) << "the report should name the corrupt object";
  EXPECT_FALSE(Exists(object)) << "fsck should have removed the corrupt object";

  CliResult repaired = Cairn({"cas", "fsck"});
  EXPECT_EQ(repaired.exit_code, 0) << repaired;
  CliResult missing = Cairn({"cas", "cat", DigestToString(DigestOfBytes(kScript))});
  EXPECT_EQ(missing.exit_code, 5) << missing;
}

TEST_F(CasCliTest, GcToZeroFreesTheBytesOfEveryUnusedBlob) {
  Import(Source());
  WaitUntilObjectsAreFromAnEarlierSecond();
  CliResult result = Cairn({"cas", "gc", "--to", "0"});
  ASSERT_EQ(result.exit_code, 0) << result;
  std::smatch match;
  ASSERT_TRUE(std::regex_match(result.out, match, std::regex("gc: freed ([0-9]+) bytes\n")))
      << result;
  EXPECT_GT(std::stoull(match[1].str()), 0u);
  CliResult stats = Cairn({"cas", "stats"});
  EXPECT_THAT(stats.out, HasSubstr("bytes:            0\n")) << stats;
}

TEST_F(CasCliTest, AMalformedDigestIsAUsageErrorNamingTheDigest) {
  // The command documents exit status 2 for a bad command line.
  for (const char* command : {"cat", "ls", "stage"}) {
    std::vector<std::string> args = {"cas", command, "abc/12"};
    if (std::string(command) == "stage") args.push_back(temp_ / "out");
    CliResult result = Cairn(args);
    EXPECT_EQ(result.exit_code, 2) << command << ": " << result;
    EXPECT_THAT(result.err, HasSubstr("abc/12")) << command;
    EXPECT_EQ(result.out, "") << command;
  }
  EXPECT_FALSE(Exists(temp_ / "out")) << "a rejected stage should not create its target";
}

TEST_F(CasCliTest, AMissingBlobIsNotFoundNamingTheDigest) {
  std::string absent = Hex64('a') + "/5";
  for (const char* command : {"cat", "ls", "stage"}) {
    std::vector<std::string> args = {"cas", command, absent};
    if (std::string(command) == "stage") args.push_back(temp_ / "out");
    CliResult result = Cairn(args);
    EXPECT_EQ(result.exit_code, 5) << command << ": " << result;
    EXPECT_THAT(result.err, HasSubstr("NOT_FOUND")) << command;
    EXPECT_THAT(result.err, HasSubstr(absent)) << command;
  }
}

TEST_F(CasCliTest, AnUnknownSubcommandIsAUsageErrorNamingIt) {
  CliResult result = Cairn({"cas", "imprt", Source()});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_THAT(result.err, HasSubstr("'imprt'"));
}

TEST_F(CasCliTest, CasWithoutASubcommandPrintsUsageAndExitsTwo) {
  CliResult result = Cairn({"cas"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_THAT(result.out, StartsWith("Usage: cairn cas"));
}

TEST_F(CasCliTest, HelpOfCasAndOfEverySubcommandExitsZeroAndStartsWithUsage) {
  for (std::string subcommand : {"", "import", "stage", "cat", "ls", "fsck", "gc", "stats"}) {
    std::vector<std::string> args = {"cas"};
    if (!subcommand.empty()) args.push_back(subcommand);
    args.push_back("--help");
    CliResult result = Cairn(args);
    EXPECT_EQ(result.exit_code, 0) << subcommand << ": " << result;
    EXPECT_THAT(result.out, StartsWith("Usage: cairn cas " + subcommand)) << result;
  }
  EXPECT_FALSE(Exists(CacheDir() + "/cas")) << "--help should not open the store";
}

// A tree whose names were chosen by a hostile command: a newline that would
// forge a second entry, and a terminal escape. (Names that are not UTF-8
// never reach a tree: REAPI names are UTF-8 and capture refuses them.)
const char kForgedName[] = "x\n-rw-r--r-- 0000 forged";
const char kEscapeName[] = "esc\x1b[31mred";

TEST_F(CasCliTest, LsQuotesANameWithANewlineOrAnEscapeSoEveryEntryStaysOneLine) {
  MakeDir(temp_ / "hostile");
  WriteFile(temp_ / "hostile/" + kForgedName, kText, 0644);
  WriteFile(temp_ / "hostile/" + kEscapeName, kText, 0644);
  CliResult result = Cairn({"cas", "ls", Import(temp_ / "hostile")});
  ASSERT_EQ(result.exit_code, 0) << result;
  std::string digest = DigestToString(DigestOfBytes(kText));
  EXPECT_THAT(result.out, HasSubstr(" " + digest + " \"esc\\033[31mred\"\n")) << result;
  EXPECT_THAT(result.out, HasSubstr(" " + digest + " \"x\\n-rw-r--r-- 0000 forged\"\n"));
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 2) << result;
}

TEST_F(CasCliTest, LsFormatJsonGivesBackEveryNameByteForByte) {
  MakeDir(temp_ / "hostile");
  WriteFile(temp_ / "hostile/" + kForgedName, kText, 0644);
  WriteFile(temp_ / "hostile/" + kEscapeName, kScript, 0755);
  MakeSymlink(std::string("target\n\xc3\xa9") + kEscapeName, temp_ / "hostile/link");
  CliResult result = Cairn({"cas", "ls", Import(temp_ / "hostile"), "--format", "json"});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 1) << result;
  std::optional<JsonValue> parsed = JsonReader::Parse(result.out);
  ASSERT_TRUE(parsed.has_value()) << result;
  ASSERT_EQ(parsed->array.size(), 3u) << result;
  std::map<std::string, const JsonValue*> by_path;
  for (const JsonValue& entry : parsed->array) by_path[entry.Get("path")->string] = &entry;
  ASSERT_EQ(by_path.count(kForgedName), 1u) << result;
  EXPECT_EQ(by_path[kForgedName]->Get("type")->string, "file");
  EXPECT_EQ(by_path[kForgedName]->Get("digest")->string, DigestToString(DigestOfBytes(kText)));
  ASSERT_EQ(by_path.count(kEscapeName), 1u) << result;
  EXPECT_TRUE(by_path[kEscapeName]->Get("executable")->boolean);
  ASSERT_EQ(by_path.count("link"), 1u) << result;
  EXPECT_EQ(by_path["link"]->Get("target")->string, std::string("target\n\xc3\xa9") + kEscapeName);
}

TEST_F(CasCliTest, AQuotaPastSixtyFourBitsIsRefusedNamingTheFileTheValueAndTheRange) {
  MakeDir(temp_ / "config/cairn");
  std::string config = temp_ / "config/cairn/config.yaml";
  WriteFile(config,
            "storage:\n  plugin: cas-local\n  options:\n    quota: 99999999999999999999999G\n");
  CliResult result = Cairn({"cas", "stats"});
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr(config + ":4:")) << result;
  EXPECT_THAT(result.err, HasSubstr("'99999999999999999999999G' is out of range (allowed 0 to "))
      << result;
}

}  // namespace
}  // namespace cairn::testing
