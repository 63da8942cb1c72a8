#include "capture_index.h"

#include <fcntl.h>
#include <stdlib.h>

#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "file_util.h"

namespace cairn::cas_local {
namespace {

int64_t Nanoseconds(const struct timespec& time) {
  return static_cast<int64_t>(time.tv_sec) * 1000000000 + time.tv_nsec;
}

}  // namespace

CaptureIndex CaptureIndex::Load(const std::string& root, const std::string& path) {
  CaptureIndex index;
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return index;
  std::string real(resolved);
  ::free(resolved);
  index.file_ = root + "/capture-index/" + DigestOfBytes(real).hash();
  StatusOr<std::string> text = ReadFileAt(AT_FDCWD, index.file_);
  if (!text.ok()) return index;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    Key key{};
    Entry entry;
    char hash[65] = {};
    int64_t size = 0;
    if (std::sscanf(line.c_str(),
                    "%" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNu32 " %64s",
                    &key.device, &key.inode, &size, &entry.mtime_ns, &entry.ctime_ns, &entry.mode,
                    hash) != 7) {
      index.loaded_.clear();  // malformed: start afresh
      return index;
    }
    entry.size = static_cast<uint64_t>(size);
    entry.digest = MakeDigest(hash, size);
    if (!ValidateDigest(entry.digest).ok()) {
      index.loaded_.clear();
      return index;
    }
    index.loaded_[key] = entry;
  }
  index.loaded_text_ = std::move(*text);
  return index;
}

const Digest* CaptureIndex::Find(const struct stat& st) const {
  auto found =
      loaded_.find(Key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
  if (found == loaded_.end()) return nullptr;
  const Entry& entry = found->second;
  if (entry.size != static_cast<uint64_t>(st.st_size) ||
      entry.mtime_ns != Nanoseconds(st.st_mtim) || entry.ctime_ns != Nanoseconds(st.st_ctim) ||
      entry.mode != static_cast<uint32_t>(st.st_mode)) {
    return nullptr;
  }
  return &entry.digest;
}

void CaptureIndex::Add(const struct stat& st, const Digest& digest) {
  Entry entry;
  entry.size = static_cast<uint64_t>(st.st_size);
  entry.mtime_ns = Nanoseconds(st.st_mtim);
  entry.ctime_ns = Nanoseconds(st.st_ctim);
  entry.mode = static_cast<uint32_t>(st.st_mode);
  entry.digest = digest;
  added_.emplace_back(Key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)},
                      entry);
}

Status CaptureIndex::Save(const struct timespec& started) {
  if (file_.empty()) return Status::Ok();
  const int64_t racy_since = Nanoseconds(started) - 1000000000;
  std::string text;
  text.reserve(added_.size() * 128);
  char line[160];
  for (const auto& [key, entry] : added_) {
    if (entry.mtime_ns >= racy_since || entry.ctime_ns >= racy_since) continue;
    std::snprintf(line, sizeof(line),
                  "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRIu32 " ",
                  key.device, key.inode, entry.size, entry.mtime_ns, entry.ctime_ns, entry.mode);
    text += line;
    text += entry.digest.hash();
    text += '\n';
  }
  if (text == loaded_text_) return Status::Ok();
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(file_.substr(0, file_.rfind('/'))));
  return WriteFileAtomically(AT_FDCWD, file_, text);
}

}  // namespace cairn::cas_local
