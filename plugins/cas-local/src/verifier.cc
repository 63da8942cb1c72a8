#include "verifier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <mutex>
#include <vector>

#include "cairn/parallel.h"
#include "file_util.h"

namespace cairn::cas_local {
namespace {

// Named temp files (used where O_TMPFILE is unavailable) older than this
// belong to writers that died.
constexpr time_t kStaleTempSeconds = 3600;

}  // namespace

Status Verifier::VerifyObjects(bool repair, VerifyReport* report) {
  std::vector<ObjectInfo> objects;
  CAIRN_RETURN_IF_ERROR(
      objects_.ForEachObject([&](const ObjectInfo& info) { objects.push_back(info); }));
  std::sort(objects.begin(), objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.hash < b.hash; });
  std::vector<std::string> problems(objects.size());
  std::vector<char> bad_object(objects.size(), 0);
  CAIRN_RETURN_IF_ERROR(ParallelFor(objects.size(), threads_, [&](size_t i) -> Status {
    const ObjectInfo& object = objects[i];
    std::string path = ObjectStore::RelativePath(object.hash);
    UniqueFd fd(::openat(objects_.objects_fd(), path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
      if (errno == ENOENT) return Status::Ok();  // evicted meanwhile
      return ErrnoStatus("open object", object.hash, errno);
    }
    StatusOr<Digest> actual = DigestOfFd(fd.get());
    bad_object[i] = !actual.ok() || actual->hash() != object.hash;
    if (!actual.ok()) {
      problems[i] = "unreadable object " + object.hash + ": " + actual.status().message();
    } else if (actual->hash() != object.hash) {
      problems[i] = "corrupt object " + object.hash + " (" + std::to_string(actual->size_bytes()) +
                    " bytes): its content hashes to " + actual->hash();
    }
    const std::string variant_path = ObjectStore::ExecutablePath(object.hash);
    UniqueFd variant(
        ::openat(objects_.objects_fd(), variant_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!variant.valid()) return Status::Ok();  // never made, or removed meanwhile
    StatusOr<Digest> variant_digest = DigestOfFd(variant.get());
    if (!variant_digest.ok() || variant_digest->hash() != object.hash) {
      if (!problems[i].empty()) problems[i] += "\n";
      problems[i] += "corrupt executable variant of object " + object.hash;
    }
    return Status::Ok();
  }));
  for (size_t i = 0; i < objects.size(); ++i) {
    if (problems[i].empty()) continue;
    ++report->problems;
    report->lines += problems[i] + (repair ? " (removed)" : "") + "\n";
    if (!repair) continue;
    if (!bad_object[i]) {  // only the variant is bad: it goes alone
      CAIRN_RETURN_IF_ERROR(objects_.RemoveExecutableVariant(objects[i].hash));
    } else {
      CAIRN_RETURN_IF_ERROR(objects_.RemoveObject(objects[i].hash));
    }
  }
  if (repair) {
    StatusOr<UniqueFd> tmp = OpenDirectory(AT_FDCWD, root_ + "/tmp");
    if (tmp.ok()) {
      time_t now = ::time(nullptr);
      std::vector<std::string> stale;
      CAIRN_RETURN_IF_ERROR(ForEachEntry(tmp->get(), [&](const char* name, unsigned char) {
        struct stat st;
        if (::fstatat(tmp->get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            st.st_mtime + kStaleTempSeconds < now) {
          stale.emplace_back(name);
        }
      }));
      for (const std::string& name : stale) ::unlinkat(tmp->get(), name.c_str(), 0);
    }
  }
  return Status::Ok();
}

}  // namespace cairn::cas_local
