#include "cairn/project/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "cairn/testing/in_memory_storage.h"
#include "cairn/testing/tree_builder.h"
#include "cairn/tree_edit.h"
#include "cairn/unique_fd.h"
#include "test_files.h"

namespace cairn::project {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::InMemoryStorage;
using testing::TreeBuilder;

// One entry of a test archive.
struct TarEntry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string content;  // files; a symlink's target
  mode_t perm = 0644;
  std::string hardlink;  // set: a hard link to this path
  time_t mtime = 1234567890;
  int64_t owner = 1000;
};

TarEntry Entry(const std::string& path, mode_t type, const std::string& content, mode_t perm) {
  TarEntry entry;
  entry.path = path;
  entry.type = type;
  entry.content = content;
  entry.perm = perm;
  return entry;
}
TarEntry Dir(const std::string& path) { return Entry(path, AE_IFDIR, "", 0755); }
TarEntry File(const std::string& path, const std::string& content, mode_t perm = 0644) {
  return Entry(path, AE_IFREG, content, perm);
}
TarEntry Link(const std::string& path, const std::string& target) {
  return Entry(path, AE_IFLNK, target, 0777);
}
TarEntry HardLink(const std::string& path, const std::string& target) {
  TarEntry entry = Entry(path, AE_IFREG, "", 0644);
  entry.hardlink = target;
  return entry;
}

// Writes `entries` as a tar archive at `path`, through `filter` ("gzip",
// "xz", or "" for none).
void WriteArchive(const std::string& path, const std::vector<TarEntry>& entries,
                  const std::string& filter = "") {
  archive* writer = archive_write_new();
  archive_write_set_format_pax_restricted(writer);
  if (filter == "gzip") archive_write_add_filter_gzip(writer);
  if (filter == "xz") archive_write_add_filter_xz(writer);
  ASSERT_EQ(archive_write_open_filename(writer, path.c_str()), ARCHIVE_OK);
  for (const TarEntry& spec : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, spec.path.c_str());
    archive_entry_set_filetype(entry, spec.type);
    archive_entry_set_perm(entry, spec.perm);
    archive_entry_set_mtime(entry, spec.mtime, 0);
    archive_entry_set_uid(entry, spec.owner);
    archive_entry_set_gid(entry, spec.owner);
    if (spec.type == AE_IFCHR) archive_entry_set_rdev(entry, makedev(1, 3));
    if (!spec.hardlink.empty()) {
      archive_entry_set_hardlink(entry, spec.hardlink.c_str());
      archive_entry_set_size(entry, 0);
    } else if (spec.type == AE_IFLNK) {
      archive_entry_set_symlink(entry, spec.content.c_str());
    } else if (spec.type == AE_IFREG) {
      archive_entry_set_size(entry, static_cast<la_int64_t>(spec.content.size()));
    }
    ASSERT_EQ(archive_write_header(writer, entry), ARCHIVE_OK) << archive_error_string(writer);
    if (spec.type == AE_IFREG && spec.hardlink.empty() && !spec.content.empty()) {
      archive_write_data(writer, spec.content.data(), spec.content.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
}

// Header fields of every entry of a tar file, one line each.
std::vector<std::string> Headers(const std::string& path) {
  std::vector<std::string> lines;
  archive* reader = archive_read_new();
  archive_read_support_format_tar(reader);
  EXPECT_EQ(archive_read_open_filename(reader, path.c_str(), 10240), ARCHIVE_OK);
  archive_entry* entry;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    std::ostringstream line;
    line << archive_entry_pathname(entry) << " " << std::oct << archive_entry_mode(entry)
         << std::dec << " mtime=" << archive_entry_mtime(entry)
         << " uid=" << archive_entry_uid(entry) << " gid=" << archive_entry_gid(entry);
    if (archive_entry_filetype(entry) == AE_IFLNK) line << " -> " << archive_entry_symlink(entry);
    if (archive_entry_hardlink(entry) != nullptr)
      line << " link to " << archive_entry_hardlink(entry);
    lines.push_back(line.str());
  }
  archive_read_free(reader);
  return lines;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ArchiveTest : public ::testing::Test {
 protected:
  // Writes the archive and imports it with its correct SHA-256.
  StatusOr<Digest> Import(const std::vector<TarEntry>& entries, const std::string& base_dir,
                          const std::string& filter = "") {
    std::string path = dir_.path() + "/source.tar";
    WriteArchive(path, entries, filter);
    return ImportTarArchive(store_, path, *Sha256OfFile(path), base_dir);
  }

  // The imported root as "hash/size", or the error.
  std::string ImportText(const std::vector<TarEntry>& entries, const std::string& base_dir,
                         const std::string& filter = "") {
    StatusOr<Digest> root = Import(entries, base_dir, filter);
    return root.ok() ? DigestToString(*root) : root.status().ToString();
  }

  std::string Tree(const std::vector<std::string>& specs) { return DigestToString(Build(specs)); }

  Digest Build(const std::vector<std::string>& specs) { return TreeBuilder(store_).Build(specs); }

  std::string Written(const Digest& root) {
    std::string path = dir_.path() + "/out.tar";
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    Status status = WriteTreeAsTar(store_, root, fd.get());
    EXPECT_TRUE(status.ok()) << status.ToString();
    return path;
  }

  TempDir dir_;
  InMemoryStorage store_;
};

TEST_F(ArchiveTest, Sha256OfFileIsTheHexOfItsBytes) {
  std::string path = dir_.Write("abc", "abc");
  EXPECT_EQ(*Sha256OfFile(path),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256OfFile(dir_.path() + "/missing").status().code(), Code::kNotFound);
}

TEST_F(ArchiveTest, AnEmptyBaseDirImportsTheWholeArchiveWithExecutableBitsAndSymlinks) {
  StatusOr<Digest> root =
      Import({Dir("./"), File("./README", "read me"), Dir("./bin/"), File("./bin/tool", "#!", 0700),
              Link("./bin/sh", "/bin/bash"), Link("./up", "../../outside"), Dir("./empty/"),
              File("deep/er/file", "x")},
             "");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(DigestToString(*root), Tree({"README=read me", "bin/tool*=#!", "bin/sh@=/bin/bash",
                                         "up@=../../outside", "empty/", "deep/er/file=x"}));
}

TEST_F(ArchiveTest, TheDefaultBaseDirIsTheFirstTopLevelDirectoryAndDropsFilesBesideIt) {
  StatusOr<Digest> root =
      Import({File("README", "top"), Dir("foo-1.0/"), File("foo-1.0/configure", "sh", 0755),
              Dir("foo-1.0/src/"), File("foo-1.0/src/main.c", "int")},
             "*");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(DigestToString(*root), Tree({"configure*=sh", "src/main.c=int"}));
}

TEST_F(ArchiveTest, WithSeveralTopLevelDirectoriesTheFirstByNameIsTaken) {
  StatusOr<Digest> root = Import({File("zeta/z", "z"), File("alpha/a", "a")}, "*");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(DigestToString(*root), Tree({"a=a"}));
}

TEST_F(ArchiveTest, DirectoriesImpliedByDeeperEntriesAreBaseDirCandidates) {
  StatusOr<Digest> root = Import({File("./pkg-2/src/x.c", "x")}, "*");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(DigestToString(*root), Tree({"src/x.c=x"}));
}

TEST_F(ArchiveTest, BaseDirGlobsFollowBuildStreamRules) {
  std::vector<TarEntry> entries = {File("foo-1.0/sub/a", "a"), File("foo-1.0/sub2/b", "b"),
                                   File("foo-1.0/lib/deep/sub/c", "c")};
  EXPECT_EQ(ImportText(entries, "foo-*/sub"), Tree({"a=a"}));
  EXPECT_EQ(ImportText(entries, "foo-?.0/sub[0-9]"), Tree({"b=b"}));
  EXPECT_EQ(ImportText(entries, "foo-1.0/s[!0-9]b"), Tree({"a=a"}));
  // '*' does not cross '/', '**' does.
  EXPECT_EQ(Import(entries, "*/deep").status().code(), Code::kNotFound);
  EXPECT_EQ(ImportText(entries, "**/deep/*"), Tree({"c=c"}));
  // A class bst's Python would also refuse.
  EXPECT_EQ(Import(entries, "foo-[z-a]*").status().code(), Code::kInvalidArgument);
}

TEST_F(ArchiveTest, ABaseDirMatchingNothingIsNotFoundNamingThePattern) {
  StatusOr<Digest> root = Import({File("README", "only a file")}, "*");
  EXPECT_EQ(root.status().code(), Code::kNotFound);
  EXPECT_THAT(root.status().message(), HasSubstr("base-dir '*'"));
}

TEST_F(ArchiveTest, AMismatchedSha256IsInvalidArgumentNamingBoth) {
  std::string path = dir_.path() + "/a.tar";
  WriteArchive(path, {File("a", "1")});
  std::string actual = *Sha256OfFile(path);
  std::string wrong(64, '0');
  StatusOr<Digest> root = ImportTarArchive(store_, path, wrong, "");
  EXPECT_EQ(root.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(root.status().message(), HasSubstr(actual));
  EXPECT_THAT(root.status().message(), HasSubstr(wrong));
  std::string upper = actual;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(ImportTarArchive(store_, path, upper, "").ok());
}

TEST_F(ArchiveTest, EntriesLeavingTheArchiveAreRefused) {
  for (std::string path : {"../escaped", "a/../../escaped", "/etc/passwd"}) {
    StatusOr<Digest> root = Import({File("a/ok", "1"), File(path, "x")}, "");
    EXPECT_EQ(root.status().code(), Code::kInvalidArgument) << path;
    EXPECT_THAT(root.status().message(), HasSubstr("'" + path + "'"));
  }
  StatusOr<Digest> hardlink = Import({File("a/ok", "1"), HardLink("a/h", "../../etc/shadow")}, "");
  EXPECT_EQ(hardlink.status().code(), Code::kInvalidArgument);
}

TEST_F(ArchiveTest, HardLinksBecomeCopiesEvenOfFilesOutsideTheBaseDir) {
  StatusOr<Digest> root = Import(
      {File("shared/data", "payload", 0755), Dir("pkg/"), HardLink("pkg/data", "shared/data"),
       File("pkg/own", "o"), HardLink("pkg/own2", "pkg/own")},
      "pkg");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(DigestToString(*root), Tree({"data*=payload", "own=o", "own2=o"}));
  StatusOr<Digest> dangling = Import({HardLink("x", "nothing")}, "");
  EXPECT_EQ(dangling.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(dangling.status().message(), HasSubstr("'nothing'"));
}

TEST_F(ArchiveTest, CompressedArchivesGiveTheSameTree) {
  std::vector<TarEntry> entries = {File("p/a", "aaaa"), File("p/b/c", "cccc", 0755)};
  std::string plain = ImportText(entries, "*");
  EXPECT_EQ(plain, Tree({"a=aaaa", "b/c*=cccc"}));
  EXPECT_EQ(ImportText(entries, "*", "gzip"), plain);
  EXPECT_EQ(ImportText(entries, "*", "xz"), plain);
}

TEST_F(ArchiveTest, OwnersTimesAndModeBitsOtherThanExecutableAreDropped) {
  TarEntry one = File("f", "same", 0600);
  TarEntry other = File("f", "same", 0664);
  other.mtime = 42;
  other.owner = 0;
  EXPECT_EQ(ImportText({one}, ""), Tree({"f=same"}));
  EXPECT_EQ(ImportText({other}, ""), Tree({"f=same"}));
  EXPECT_EQ(ImportText({File("f", "same", 0744)}, ""), Tree({"f*=same"}));
}

TEST_F(ArchiveTest, DevicesAreRefusedNamingTheEntry) {
  TarEntry device = Entry("dev/null", AE_IFCHR, "", 0666);
  StatusOr<Digest> root = Import({device}, "");
  EXPECT_EQ(root.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(root.status().message(), HasSubstr("'dev/null' is a character device"));
}

TEST_F(ArchiveTest, AnEntryBelowAFileOrSymlinkIsRefused) {
  StatusOr<Digest> below_file = Import({File("a", "1"), File("a/b", "2")}, "");
  EXPECT_EQ(below_file.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(below_file.status().message(), HasSubstr("lies under 'a', which is a file"));
  StatusOr<Digest> below_link = Import({Link("lib", "usr/lib"), File("lib/x", "2")}, "");
  EXPECT_EQ(below_link.status().code(), Code::kInvalidArgument);
}

TEST_F(ArchiveTest, LaterEntriesReplaceEarlierOnesAndDirectoriesMerge) {
  StatusOr<Digest> root =
      Import({File("d/a", "old"), Dir("d/"), File("d/b", "b"), File("d/a", "new")}, "");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(DigestToString(*root), Tree({"d/a=new", "d/b=b"}));
}

TEST_F(ArchiveTest, WrittenTarReadsBackToTheSameTree) {
  std::string long_name(150, 'n');
  Digest root = Build({"usr/bin/tool*=binary", "usr/lib/libz.so@=libz.so.1", "usr/lib/libz.so.1=z",
                       "etc/abs@=/usr/lib", "var/empty/", "a-b=dash sorts before slash", "a/x=1",
                       "deep/" + long_name + "/f=long", "caf\xc3\xa9/na\xc3\xafve=utf8", "zero=",
                       // Larger than one chunk of the writer's reads.
                       "big=" + std::string(9 << 20, 'b')});
  std::string path = Written(root);
  StatusOr<Digest> back = ImportTarArchive(store_, path, *Sha256OfFile(path), "");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(DigestToString(*back), DigestToString(root));
  StatusOr<std::vector<TreeEntry>> before = ListTree(store_, root);
  StatusOr<std::vector<TreeEntry>> after = ListTree(store_, *back);
  ASSERT_TRUE(before.ok() && after.ok());
  ASSERT_EQ(before->size(), after->size());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_EQ((*before)[i].path, (*after)[i].path);
    EXPECT_EQ((*before)[i].digest, (*after)[i].digest);
    EXPECT_EQ((*before)[i].executable, (*after)[i].executable);
    EXPECT_EQ((*before)[i].target, (*after)[i].target);
  }
}

TEST_F(ArchiveTest, WrittenTarHasBstCheckoutNamesWithFixedModesOwnersAndTimes) {
  Digest root = Build({"b/tool*=x", "b/data=y", "a-b=1", "a/x@=../b", "e/"});
  EXPECT_THAT(
      Headers(Written(root)),
      ElementsAre("./a/ 40755 mtime=0 uid=0 gid=0", "./a/x 120777 mtime=0 uid=0 gid=0 -> ../b",
                  "./a-b 100644 mtime=0 uid=0 gid=0", "./b/ 40755 mtime=0 uid=0 gid=0",
                  "./b/data 100644 mtime=0 uid=0 gid=0", "./b/tool 100755 mtime=0 uid=0 gid=0",
                  "./e/ 40755 mtime=0 uid=0 gid=0"));
}

TEST_F(ArchiveTest, FilesWithTheContentsAndModeOfAnEarlierOneAreWrittenAsHardLinks) {
  Digest root = Build({"a/one=same", "b/two=same", "c/three*=same", "d/four*=same", "e="});
  std::string path = Written(root);
  EXPECT_THAT(Headers(path),
              ElementsAre("./a/ 40755 mtime=0 uid=0 gid=0", "./a/one 100644 mtime=0 uid=0 gid=0",
                          "./b/ 40755 mtime=0 uid=0 gid=0",
                          "./b/two 644 mtime=0 uid=0 gid=0 link to ./a/one",
                          "./c/ 40755 mtime=0 uid=0 gid=0", "./c/three 100755 mtime=0 uid=0 gid=0",
                          "./d/ 40755 mtime=0 uid=0 gid=0",
                          "./d/four 755 mtime=0 uid=0 gid=0 link to ./c/three",
                          "./e 100644 mtime=0 uid=0 gid=0"));
  StatusOr<Digest> back = ImportTarArchive(store_, path, *Sha256OfFile(path), "");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(DigestToString(*back), DigestToString(root));
}

TEST_F(ArchiveTest, WritingTheSameTreeTwiceGivesTheSameBytes) {
  Digest root = Build({"x/y=1", "z@=x"});
  std::string first = ReadFile(Written(root));
  std::string second = ReadFile(Written(root));
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.size() % 10240, 0u);
  EXPECT_EQ(first.find(std::string("PaxHeader")), std::string::npos);
}

TEST_F(ArchiveTest, AFileThatIsNoTarArchiveIsInvalidArgument) {
  std::string path = dir_.Write("not.tar", "PK\x03\x04 this is not a tar archive at all");
  StatusOr<Digest> root = ImportTarArchive(store_, path, *Sha256OfFile(path), "");
  EXPECT_EQ(root.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(root.status().message(), HasSubstr(path));
}

TEST_F(ArchiveTest, AnEmptyTreeIsAnEmptyArchive) {
  std::string path = Written(Build({}));
  EXPECT_TRUE(Headers(path).empty());
  StatusOr<Digest> back = ImportTarArchive(store_, path, *Sha256OfFile(path), "");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(DigestToString(*back), Tree({}));
}

TEST_F(ArchiveTest, ATwoThousandFileTreeRoundTrips) {
  std::vector<std::string> specs;
  for (int d = 0; d < 40; ++d) {
    for (int f = 0; f < 50; ++f) {
      specs.push_back("dir" + std::to_string(d) + "/file" + std::to_string(f) +
                      (f % 7 == 0 ? "*" : "") + "=" + std::to_string(d * 1000 + f));
    }
  }
  Digest root = Build(specs);
  std::string path = Written(root);
  StatusOr<Digest> back = ImportTarArchive(store_, path, *Sha256OfFile(path), "");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(DigestToString(*back), DigestToString(root));
  EXPECT_EQ(ListTree(store_, *back)->size(), 2040u);
}

}  // namespace
}  // namespace cairn::project
