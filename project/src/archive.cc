#include "cairn/project/archive.h"

#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <regex>
#include <unordered_map>
#include <vector>

#include "cairn/merkle.h"
#include "cairn/relative_path.h"
#include "cairn/unique_fd.h"
#include "libarchive_api.h"

namespace cairn::project {
namespace {

constexpr size_t kReadChunk = 1 << 20;
// File contents up to this size are held in memory on their way to the
// store; larger ones go through a temporary file.
constexpr size_t kInMemoryFileLimit = 64 << 20;

std::string Quoted(const std::string& text) { return "'" + text + "'"; }

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t extra = c < 0x80                          ? 0
                   : (c & 0xE0) == 0xC0 && c >= 0xC2 ? 1
                   : (c & 0xF0) == 0xE0              ? 2
                   : (c & 0xF8) == 0xF0 && c <= 0xF4 ? 3
                                                     : 4;
    if (extra == 4 || text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

// libarchive converts names between UTF-8 (pax headers, protobuf strings)
// and the thread's locale, and fails on any non-ASCII name in the "C"
// locale a program starts in. This switches the calling thread (only) to
// C.UTF-8 for the life of an archive object; construct it before the
// archive, which settles its character set when created.
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() : utf8_(::newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr)) {
    if (utf8_ != nullptr) previous_ = ::uselocale(utf8_);
  }
  ~ScopedUtf8Locale() {
    if (utf8_ == nullptr) return;
    ::uselocale(previous_);
    ::freelocale(utf8_);
  }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t utf8_;
  locale_t previous_ = nullptr;
};

// ---------------------------------------------------------------------------
// BuildStream's globs (utils.glob / _glob2re): '*' and '?' stay within one
// component, '**' crosses them, classes with '!' negation. The pattern and
// the path both get a leading '/' and must match whole.

StatusOr<std::regex> GlobToRegex(const std::string& glob) {
  std::string pattern = glob.empty() || glob.front() != '/' ? "/" + glob : glob;
  std::string regex;
  for (size_t i = 0; i < pattern.size();) {
    char c = pattern[i++];
    if (c == '*') {
      if (i < pattern.size() && pattern[i] == '*') {
        regex += "[\\s\\S]*";
        ++i;
      } else {
        regex += "[^/]*";
      }
    } else if (c == '?') {
      regex += "[^/]";
    } else if (c == '[') {
      size_t j = i;
      if (j < pattern.size() && pattern[j] == '!') ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      while (j < pattern.size() && pattern[j] != ']') ++j;
      if (j >= pattern.size()) {
        regex += "\\[";
        continue;
      }
      std::string members;
      for (size_t k = i; k < j; ++k) {
        // Python's re reads a ']' or '[' right here literally; ECMAScript does not.
        if (pattern[k] == '\\' || pattern[k] == ']' || pattern[k] == '[') members += '\\';
        members += pattern[k];
      }
      i = j + 1;
      if (members[0] == '!') {
        members[0] = '^';
      } else if (members[0] == '^') {
        members.insert(0, "\\");
      }
      regex += "[" + members + "]";
    } else if (std::isalnum(static_cast<unsigned char>(c)) ||
               static_cast<unsigned char>(c) >= 0x80) {
      regex += c;
    } else {
      regex += '\\';
      regex += c;
    }
  }
  try {
    return std::regex(regex, std::regex::ECMAScript);
  } catch (const std::regex_error& error) {
    return InvalidArgument("base-dir " + Quoted(glob) + " is not a valid glob: " + error.what());
  }
}

// ---------------------------------------------------------------------------
// The archive as a tree in memory, file contents already in the store.

struct Node {
  enum class Kind { kFile, kDirectory, kSymlink } kind = Kind::kDirectory;
  Digest digest;
  bool executable = false;
  std::string target;
  std::map<std::string, std::unique_ptr<Node>> children;  // bytewise order
};

class ArchiveReader {
 public:
  ArchiveReader(const LibArchive& lib, Storage& storage, const std::string& archive_path)
      : lib_(lib),
        storage_(storage),
        archive_path_(archive_path),
        archive_(lib_.archive_read_new()) {}
  ~ArchiveReader() { lib_.archive_read_free(archive_); }
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  StatusOr<std::unique_ptr<Node>> Read() {
    lib_.archive_read_support_filter_all(archive_);
    lib_.archive_read_support_format_tar(archive_);
    lib_.archive_read_support_format_gnutar(archive_);
    if (lib_.archive_read_open_filename(archive_, archive_path_.c_str(), kReadChunk) !=
        ARCHIVE_OK) {
      return Error("cannot open");
    }
    auto root = std::make_unique<Node>();
    for (;;) {
      archive_entry* entry = nullptr;
      int result = lib_.archive_read_next_header(archive_, &entry);
      if (result == ARCHIVE_EOF) break;
      if (result < ARCHIVE_WARN) return Error("cannot read");
      CAIRN_RETURN_IF_ERROR(AddEntry(*root, entry));
    }
    return root;
  }

 private:
  Status Error(const std::string& what) const {
    const char* why = lib_.archive_error_string(archive_);
    return InvalidArgument(what + " archive " + archive_path_ + ": " +
                           (why != nullptr ? why : "unknown libarchive error"));
  }

  Status EntryError(const std::string& path, const std::string& why) const {
    return InvalidArgument("archive " + archive_path_ + ": entry " + Quoted(path) + " " + why);
  }

  // Entry names as stored, preferring their UTF-8 form.
  static std::string Text(const char* utf8, const char* raw) {
    return utf8 != nullptr ? utf8 : raw != nullptr ? raw : "";
  }

  // The components of an entry's path with "./", "." and empty components
  // dropped; an absolute path or ".." is refused.
  StatusOr<std::vector<std::string>> Components(const std::string& path) const {
    if (!IsValidUtf8(path)) return EntryError(path, "has a name that is not valid UTF-8");
    if (!path.empty() && path.front() == '/') {
      return EntryError(path, "has an absolute path: it would be staged outside the source");
    }
    std::vector<std::string> components;
    for (std::string& component : SplitPath(path)) {
      if (component.empty() || component == ".") continue;
      if (component == "..") {
        return EntryError(path, "has a '..' component: it would be staged outside the source");
      }
      components.push_back(std::move(component));
    }
    return components;
  }

  // The directory holding `components.back()`, created as needed.
  StatusOr<Node*> ParentOf(Node& root, const std::vector<std::string>& components,
                           const std::string& path) const {
    Node* node = &root;
    for (size_t i = 0; i + 1 < components.size(); ++i) {
      std::unique_ptr<Node>& child = node->children[components[i]];
      if (!child) child = std::make_unique<Node>();
      if (child->kind != Node::Kind::kDirectory) {
        std::string under = components[0];
        for (size_t k = 1; k <= i; ++k) under += "/" + components[k];
        return EntryError(path, "lies under " + Quoted(under) + ", which is " +
                                    (child->kind == Node::Kind::kFile ? "a file" : "a symlink") +
                                    " in the archive");
      }
      node = child.get();
    }
    return node;
  }

  const Node* Find(const Node& root, const std::vector<std::string>& components) const {
    const Node* node = &root;
    for (const std::string& name : components) {
      if (node->kind != Node::Kind::kDirectory) return nullptr;
      auto found = node->children.find(name);
      if (found == node->children.end() || !found->second) return nullptr;
      node = found->second.get();
    }
    return node;
  }

  Status AddEntry(Node& root, archive_entry* entry) {
    std::string path =
        Text(lib_.archive_entry_pathname_utf8(entry), lib_.archive_entry_pathname(entry));
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> components, Components(path));
    mode_t type = lib_.archive_entry_filetype(entry);
    const char* hardlink = lib_.archive_entry_hardlink(entry);
    if (components.empty()) {
      // "./": the archive's root.
      if (type == AE_IFDIR || (hardlink == nullptr && type == 0)) return Status::Ok();
      return EntryError(path, "names the archive's root but is not a directory");
    }
    CAIRN_ASSIGN_OR_RETURN(Node * parent, ParentOf(root, components, path));
    std::unique_ptr<Node>& slot = parent->children[components.back()];
    auto node = std::make_unique<Node>();
    bool has_data = lib_.archive_entry_size_is_set(entry) && lib_.archive_entry_size(entry) > 0;
    if (hardlink != nullptr && !has_data) {
      std::string target = Text(lib_.archive_entry_hardlink_utf8(entry), hardlink);
      CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> target_components, Components(target));
      const Node* linked = Find(root, target_components);
      if (linked == nullptr || linked->kind == Node::Kind::kDirectory) {
        return EntryError(path, "is a hard link to " + Quoted(target) +
                                    ", which is not a file earlier in the archive");
      }
      node->kind = linked->kind;
      node->digest = linked->digest;
      node->executable = linked->executable;
      node->target = linked->target;
    } else if (type == AE_IFDIR) {
      // A directory listed again keeps what it holds.
      if (slot && slot->kind == Node::Kind::kDirectory) return Status::Ok();
    } else if (type == AE_IFREG || hardlink != nullptr) {
      node->kind = Node::Kind::kFile;
      node->executable = (lib_.archive_entry_perm(entry) & S_IXUSR) != 0;
      CAIRN_ASSIGN_OR_RETURN(node->digest, StoreData(path));
    } else if (type == AE_IFLNK) {
      node->kind = Node::Kind::kSymlink;
      node->target =
          Text(lib_.archive_entry_symlink_utf8(entry), lib_.archive_entry_symlink(entry));
      if (node->target.empty()) return EntryError(path, "is a symlink with an empty target");
      if (!IsValidUtf8(node->target)) {
        return EntryError(path, "is a symlink whose target is not valid UTF-8");
      }
    } else {
      std::string what = type == AE_IFCHR    ? "a character device"
                         : type == AE_IFBLK  ? "a block device"
                         : type == AE_IFIFO  ? "a FIFO"
                         : type == AE_IFSOCK ? "a socket"
                                             : "of an unknown type";
      return EntryError(path, "is " + what + ": a tree holds only files, directories and symlinks");
    }
    slot = std::move(node);
    return Status::Ok();
  }

  // The current entry's data, written to the store.
  StatusOr<Digest> StoreData(const std::string& path) {
    std::string data;
    UniqueFd spill;
    std::vector<char> buffer(kReadChunk);
    for (;;) {
      la_ssize_t n = lib_.archive_read_data(archive_, buffer.data(), buffer.size());
      if (n < 0) return Error("cannot read " + Quoted(path) + " of");
      if (n == 0) break;
      data.append(buffer.data(), static_cast<size_t>(n));
      if (data.size() < kInMemoryFileLimit) continue;
      if (!spill.valid()) {
        CAIRN_ASSIGN_OR_RETURN(spill, TemporaryFile());
      }
      CAIRN_RETURN_IF_ERROR(WriteAll(spill.get(), data));
      data.clear();
    }
    if (!spill.valid()) {
      StatusOr<Digest> digest = storage_.WriteBlob(data);
      if (!digest.ok()) return digest.status().WithContext("storing " + Quoted(path));
      return digest;
    }
    CAIRN_RETURN_IF_ERROR(WriteAll(spill.get(), data));
    if (::lseek(spill.get(), 0, SEEK_SET) != 0) {
      return ErrnoStatus("seek", "temporary file", errno);
    }
    StatusOr<Digest> digest = storage_.WriteBlobFromFd(spill.get());
    if (!digest.ok()) return digest.status().WithContext("storing " + Quoted(path));
    return digest;
  }

  static StatusOr<UniqueFd> TemporaryFile() {
    const char* tmpdir = ::getenv("TMPDIR");
    std::string pattern =
        std::string(tmpdir != nullptr && *tmpdir ? tmpdir : "/tmp") + "/cairn-archive-XXXXXX";
    UniqueFd fd(::mkostemp(pattern.data(), O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus("create temporary file", pattern, errno);
    ::unlink(pattern.c_str());
    return fd;
  }

  static Status WriteAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", "temporary file", errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  const LibArchive& lib_;
  Storage& storage_;
  std::string archive_path_;
  ScopedUtf8Locale locale_;  // before archive_
  archive* archive_;
};

// The first directory, in sorted path order, matching `pattern`; nullptr
// when none does.
StatusOr<const Node*> FindBaseDirectory(const Node& root, const std::string& pattern) {
  CAIRN_ASSIGN_OR_RETURN(std::regex regex, GlobToRegex(pattern));
  const Node* best = nullptr;
  std::string best_path;
  // Depth-first with sorted children is not sorted path order ("a/b" comes
  // before "a-b"), so every match is compared.
  std::vector<std::pair<std::string, const Node*>> pending = {{"", &root}};
  while (!pending.empty()) {
    auto [path, node] = pending.back();
    pending.pop_back();
    for (const auto& [name, child] : node->children) {
      if (child->kind != Node::Kind::kDirectory) continue;
      std::string child_path = path + "/" + name;
      bool better = best == nullptr || child_path.substr(1) < best_path;
      try {
        if (better && std::regex_match(child_path, regex)) {
          best = child.get();
          best_path = child_path.substr(1);
        }
      } catch (const std::regex_error& error) {  // e.g. error_complexity
        return InvalidArgument("cannot match base-dir " + Quoted(pattern) + " against " +
                               Quoted(child_path.substr(1)) + ": " + error.what());
      }
      pending.emplace_back(child_path, child.get());
    }
  }
  return best;
}

StatusOr<Digest> WriteNode(Storage& storage, const Node& node, const std::string& path) {
  CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(path));
  Directory directory;
  for (const auto& [name, child] : node.children) {
    switch (child->kind) {
      case Node::Kind::kFile: {
        FileNode* file = directory.add_files();
        file->set_name(name);
        *file->mutable_digest() = child->digest;
        file->set_is_executable(child->executable);
        break;
      }
      case Node::Kind::kDirectory: {
        CAIRN_ASSIGN_OR_RETURN(Digest digest, WriteNode(storage, *child, JoinPath(path, name)));
        DirectoryNode* entry = directory.add_directories();
        entry->set_name(name);
        *entry->mutable_digest() = digest;
        break;
      }
      case Node::Kind::kSymlink: {
        SymlinkNode* link = directory.add_symlinks();
        link->set_name(name);
        link->set_target(child->target);
        break;
      }
    }
  }
  return storage.WriteMessage(directory);
}

}  // namespace

StatusOr<std::string> Sha256OfFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("open", path, errno);
  Sha256 hasher;
  std::vector<char> buffer(kReadChunk);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (n == 0) break;
    hasher.Update(buffer.data(), static_cast<size_t>(n));
  }
  return hasher.FinishHex();
}

StatusOr<Digest> ImportTarArchive(Storage& storage, const std::string& archive_path,
                                  const std::string& expected_sha256, const std::string& base_dir) {
  CAIRN_ASSIGN_OR_RETURN(std::string actual, Sha256OfFile(archive_path));
  std::string expected = expected_sha256;
  std::transform(expected.begin(), expected.end(), expected.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (actual != expected) {
    return InvalidArgument("archive " + archive_path + " has SHA-256 " + actual + ", but " +
                           Quoted(expected_sha256) + " was expected");
  }
  CAIRN_ASSIGN_OR_RETURN(const LibArchive* la, LoadLibArchive());
  ArchiveReader reader(*la, storage, archive_path);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Node> root, reader.Read());
  const Node* base = root.get();
  if (!base_dir.empty()) {
    CAIRN_ASSIGN_OR_RETURN(base, FindBaseDirectory(*root, base_dir));
    if (base == nullptr) {
      return NotFound("archive " + archive_path + " has no directory matching base-dir " +
                      Quoted(base_dir));
    }
  }
  StatusOr<Digest> digest = WriteNode(storage, *base, "");
  if (!digest.ok()) return digest.status().WithContext("importing " + archive_path);
  return digest;
}

// ---------------------------------------------------------------------------
// Writing

namespace {

constexpr uint64_t kWriteChunk = 4 << 20;

class TarWriter {
 public:
  TarWriter(const LibArchive& lib, Storage& storage)
      : lib_(lib), storage_(storage), archive_(lib_.archive_write_new()) {}
  ~TarWriter() { lib_.archive_write_free(archive_); }
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  Status Write(const Digest& root, int fd) {
    // The last block is padded to the full 10240 bytes whatever `fd` is
    // (libarchive leaves regular files unpadded), as Python's tarfile does.
    if (lib_.archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK ||
        lib_.archive_write_set_bytes_per_block(archive_, 10240) != ARCHIVE_OK ||
        lib_.archive_write_set_bytes_in_last_block(archive_, 0) != ARCHIVE_OK ||
        lib_.archive_write_open_fd(archive_, fd) != ARCHIVE_OK) {
      return Error("cannot start the tar stream");
    }
    CAIRN_RETURN_IF_ERROR(WriteDirectory(root, ""));
    if (lib_.archive_write_close(archive_) != ARCHIVE_OK)
      return Error("cannot finish the tar stream");
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what) const {
    const char* why = lib_.archive_error_string(archive_);
    return Internal(what + ": " + (why != nullptr ? why : "unknown libarchive error"));
  }

  struct Entry {
    const std::string* name;
    const FileNode* file = nullptr;
    const DirectoryNode* directory = nullptr;
    const SymlinkNode* symlink = nullptr;
  };

  Status WriteDirectory(const Digest& digest, const std::string& path) {
    CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(path));
    CAIRN_ASSIGN_OR_RETURN(Directory directory, ReadDirectory(storage_, digest, path));
    std::vector<Entry> entries;
    for (const FileNode& file : directory.files()) entries.push_back({&file.name(), &file});
    for (const DirectoryNode& child : directory.directories()) {
      entries.push_back({&child.name(), nullptr, &child});
    }
    for (const SymlinkNode& link : directory.symlinks()) {
      entries.push_back({&link.name(), nullptr, nullptr, &link});
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return *a.name < *b.name; });
    for (const Entry& entry : entries) {
      std::string child_path = JoinPath(path, *entry.name);
      if (entry.file != nullptr) {
        CAIRN_RETURN_IF_ERROR(WriteFile(*entry.file, child_path));
      } else if (entry.directory != nullptr) {
        CAIRN_RETURN_IF_ERROR(WriteHeader("./" + child_path + "/", AE_IFDIR, 0755, 0, ""));
        CAIRN_RETURN_IF_ERROR(WriteDirectory(entry.directory->digest(), child_path));
      } else {
        CAIRN_RETURN_IF_ERROR(
            WriteHeader("./" + child_path, AE_IFLNK, 0777, 0, entry.symlink->target()));
      }
    }
    return Status::Ok();
  }

  Status WriteFile(const FileNode& file, const std::string& path) {
    std::string name = "./" + path;
    mode_t perm = file.is_executable() ? 0755 : 0644;
    // A file with the contents and mode of one already written becomes a
    // hard link to it, as in bst's tar, whose checkout hardlinks every
    // copy of a CAS object to that one object.
    auto [first, inserted] = written_.try_emplace(
        DigestToString(file.digest()) + (file.is_executable() ? "+x" : ""), name);
    if (!inserted) return WriteHeader(name, AE_IFREG, perm, 0, "", first->second);
    uint64_t size = static_cast<uint64_t>(file.digest().size_bytes());
    CAIRN_RETURN_IF_ERROR(WriteHeader(name, AE_IFREG, perm, size, ""));
    for (uint64_t offset = 0; offset < size; offset += kWriteChunk) {
      StatusOr<std::string> chunk = storage_.ReadBlob(file.digest(), offset, kWriteChunk);
      if (!chunk.ok()) return chunk.status().WithContext("writing " + Quoted(path) + " to tar");
      if (chunk->empty())
        return DataLoss("blob of " + Quoted(path) + " is shorter than its digest");
      std::string_view rest = *chunk;
      while (!rest.empty()) {
        la_ssize_t n = lib_.archive_write_data(archive_, rest.data(), rest.size());
        if (n <= 0) return Error("cannot write " + Quoted(path));
        rest.remove_prefix(static_cast<size_t>(n));
      }
    }
    return Status::Ok();
  }

  Status WriteHeader(const std::string& name, mode_t type, mode_t perm, uint64_t size,
                     const std::string& target, const std::string& hardlink = "") {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(lib_.archive_entry_new(),
                                                                   lib_.archive_entry_free);
    lib_.archive_entry_set_pathname_utf8(entry.get(), name.c_str());
    lib_.archive_entry_set_filetype(entry.get(), type);
    lib_.archive_entry_set_perm(entry.get(), perm);
    lib_.archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    lib_.archive_entry_set_mtime(entry.get(), 0, 0);
    lib_.archive_entry_set_uid(entry.get(), 0);
    lib_.archive_entry_set_gid(entry.get(), 0);
    if (type == AE_IFLNK) lib_.archive_entry_set_symlink_utf8(entry.get(), target.c_str());
    if (!hardlink.empty()) lib_.archive_entry_set_hardlink_utf8(entry.get(), hardlink.c_str());
    if (lib_.archive_write_header(archive_, entry.get()) < ARCHIVE_WARN) {
      return Error("cannot write the header of " + Quoted(name));
    }
    return Status::Ok();
  }

  const LibArchive& lib_;
  Storage& storage_;
  ScopedUtf8Locale locale_;  // before archive_
  archive* archive_;
  // The first entry written of each file content and mode.
  std::unordered_map<std::string, std::string> written_;
};

}  // namespace

Status WriteTreeAsTar(Storage& storage, const Digest& root, int fd) {
  CAIRN_ASSIGN_OR_RETURN(const LibArchive* la, LoadLibArchive());
  TarWriter writer(*la, storage);
  return writer.Write(root, fd);
}

}  // namespace cairn::project
