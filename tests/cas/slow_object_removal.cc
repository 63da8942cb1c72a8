// slow_object_removal — an LD_PRELOAD shim for the garbage-collection race
// test: in a process started with CAIRN_TEST_SLOW_MARKER=FILE, the first
// unlinkat or renameat of an object (a path "ab/<62 hex>...") creates FILE
// and then waits two seconds before doing it, which holds open the window
// in which another process may find the object present.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace {

bool IsObjectPath(const char* path) {
  return path != nullptr && std::strlen(path) >= 65 && path[2] == '/';
}

void SignalAndWait() {
  static bool done = false;
  const char* marker = std::getenv("CAIRN_TEST_SLOW_MARKER");
  if (marker == nullptr || done) return;
  done = true;
  int fd = ::open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  ::usleep(2000 * 1000);
}

template <typename Function>
Function Next(const char* name) {
  return reinterpret_cast<Function>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" int unlinkat(int dir_fd, const char* path, int flags) {
  static auto real = Next<int (*)(int, const char*, int)>("unlinkat");
  if (IsObjectPath(path)) SignalAndWait();
  return real(dir_fd, path, flags);
}

extern "C" int renameat(int old_dir_fd, const char* old_path, int new_dir_fd,
                        const char* new_path) {
  static auto real = Next<int (*)(int, const char*, int, const char*)>("renameat");
  if (IsObjectPath(old_path)) SignalAndWait();
  return real(old_dir_fd, old_path, new_dir_fd, new_path);
}
