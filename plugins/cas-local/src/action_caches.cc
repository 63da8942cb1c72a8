#include "action_caches.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <vector>

#include "file_util.h"

namespace cairn::cas_local {
namespace {

constexpr char kInstancesDirectory[] = "ac-instances";

std::string RelativeDirectory(const std::string& instance) {
  if (instance.empty()) return "ac";
  return std::string(kInstancesDirectory) + "/" + DigestOfBytes(instance).hash();
}

}  // namespace

Status ValidateInstanceName(const std::string& instance) {
  if (instance.size() > kMaxInstanceNameLength) {
    return InvalidArgument("instance name of " + std::to_string(instance.size()) +
                           " bytes is longer than the " + std::to_string(kMaxInstanceNameLength) +
                           " allowed");
  }
  if (instance.find('\0') != std::string::npos) {
    return InvalidArgument("instance name '" + instance.substr(0, instance.find('\0')) +
                           "...' contains a NUL character");
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<ActionCaches>> ActionCaches::Open(const std::string& root,
                                                           ObjectStore& objects) {
  std::unique_ptr<ActionCaches> caches(new ActionCaches(root, objects));
  CAIRN_RETURN_IF_ERROR(caches->CacheAt("ac").status());
  return caches;
}

StatusOr<ActionCache*> ActionCaches::CacheAt(const std::string& relative) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<ActionCache>& cache = caches_[relative];
  if (cache == nullptr) {
    StatusOr<std::unique_ptr<ActionCache>> opened = ActionCache::Open(root_, relative, objects_);
    if (!opened.ok()) {
      caches_.erase(relative);
      return opened.status();
    }
    cache = std::move(*opened);
  }
  return cache.get();
}

StatusOr<ActionResult> ActionCaches::Get(const std::string& instance, const Digest& action) {
  CAIRN_RETURN_IF_ERROR(ValidateInstanceName(instance));
  std::string relative = RelativeDirectory(instance);
  // A lookup in an instance never updated creates nothing.
  struct stat st;
  if (!instance.empty() && ::stat((root_ + "/" + relative).c_str(), &st) != 0) {
    return NotFound("no action result for " + DigestToString(action) + " in instance '" + instance +
                    "'");
  }
  CAIRN_ASSIGN_OR_RETURN(ActionCache * cache, CacheAt(relative));
  StatusOr<ActionResult> result = cache->Get(action);
  if (!result.ok() && !instance.empty()) {
    return result.status().WithContext("instance '" + instance + "'");
  }
  return result;
}

Status ActionCaches::Update(const std::string& instance, const Digest& action,
                            const ActionResult& result) {
  CAIRN_RETURN_IF_ERROR(ValidateInstanceName(instance));
  CAIRN_ASSIGN_OR_RETURN(ActionCache * cache, CacheAt(RelativeDirectory(instance)));
  return cache->Update(action, result);
}

Status ActionCaches::OpenAll() {
  std::string instances = root_ + "/" + kInstancesDirectory;
  StatusOr<UniqueFd> fd = OpenDirectory(AT_FDCWD, instances);
  if (!fd.ok()) return Status::Ok();  // no instance was ever updated
  std::vector<std::string> names;
  CAIRN_RETURN_IF_ERROR(ForEachEntry(fd->get(), [&](const char* name, unsigned char type) {
    if ((type == DT_DIR || type == DT_UNKNOWN) && name[0] != '.') names.emplace_back(name);
  }));
  for (const std::string& name : names) {
    CAIRN_RETURN_IF_ERROR(CacheAt(std::string(kInstancesDirectory) + "/" + name).status());
  }
  return Status::Ok();
}

StatusOr<uint64_t> ActionCaches::Count() {
  CAIRN_RETURN_IF_ERROR(OpenAll());
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t total = 0;
  for (const auto& [relative, cache] : caches_) {
    CAIRN_ASSIGN_OR_RETURN(uint64_t count, cache->Count());
    total += count;
  }
  return total;
}

Status ActionCaches::Verify(bool repair, VerifyReport* report) {
  CAIRN_RETURN_IF_ERROR(OpenAll());
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [relative, cache] : caches_) {
    CAIRN_RETURN_IF_ERROR(cache->Verify(repair, report));
  }
  return Status::Ok();
}

}  // namespace cairn::cas_local
