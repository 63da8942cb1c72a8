#include "libarchive_api.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace cairn::project {
namespace {

StatusOr<LibArchive> Open() {
  // Never closed: the table is kept for the process's life.
  void* library = dlopen(kLibArchiveSoname, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    return FailedPrecondition(std::string("tar archives need ") + kLibArchiveSoname +
                              " (Debian's libarchive13), which cannot be loaded: " +
                              (why != nullptr ? why : "unknown error"));
  }
  LibArchive table;
  std::string missing;
#define CAIRN_LIBARCHIVE_ENTRY(name)                                       \
  table.name = reinterpret_cast<decltype(&::name)>(dlsym(library, #name)); \
  if (table.name == nullptr) missing += std::string(missing.empty() ? "" : ", ") + #name;
  CAIRN_LIBARCHIVE_FUNCTIONS(CAIRN_LIBARCHIVE_ENTRY)
#undef CAIRN_LIBARCHIVE_ENTRY
  if (!missing.empty()) {
    return FailedPrecondition(std::string(kLibArchiveSoname) + " lacks " + missing);
  }
  return table;
}

}  // namespace

StatusOr<const LibArchive*> LoadLibArchive() {
  static std::once_flag once;
  static StatusOr<LibArchive> loaded = Internal("libarchive not loaded yet");
  std::call_once(once, [] { loaded = Open(); });
  if (!loaded.ok()) return loaded.status();
  return &*loaded;
}

}  // namespace cairn::project
