// cas_helper — a second process for the cas-local tests.
//
//   cas_helper STORE import DIR          prints the root digest of DIR
//   cas_helper STORE import-loop DIR     imports DIR forever (to be killed)
//   cas_helper STORE hold DIGEST...      uses the blobs, prints "ready",
//                                        keeps the store open until stdin closes
//   cas_helper STORE gc                  collects garbage down to 1 byte
// Exit status 0 on success, 1 with a message on stderr otherwise.
#include <unistd.h>

#include <iostream>
#include <string>

#include "loaded_store.h"

int main(int argc, char** argv) {
  using namespace cairn;
  if (argc < 4 && !(argc == 3 && std::string(argv[2]) == "gc")) {
    std::cerr << "usage: cas_helper STORE (import|import-loop|hold|gc) ARG...\n";
    return 2;
  }
  std::string mode = argv[2];
  auto loaded =
      testing::LoadedStore::Open(CAIRN_CAS_LOCAL_PLUGIN, std::string("path: ") + argv[1] + "\n");
  if (!loaded.ok()) {
    std::cerr << loaded.status().ToString() << "\n";
    return 1;
  }
  Storage& store = (*loaded)->storage();
  if (mode == "import" || mode == "import-loop") {
    do {
      StatusOr<CapturedTree> captured = store.CaptureTree(argv[3], CaptureOptions{});
      if (!captured.ok()) {
        std::cerr << captured.status().ToString() << "\n";
        return 1;
      }
      if (mode == "import") std::cout << DigestToString(captured->root) << "\n";
    } while (mode == "import-loop");
    return 0;
  }
  if (mode == "gc") {
    StatusOr<uint64_t> freed = store.CollectGarbage(1);
    if (!freed.ok()) {
      std::cerr << freed.status().ToString() << "\n";
      return 1;
    }
    std::cout << *freed << "\n";
    return 0;
  }
  if (mode == "hold") {
    for (int i = 3; i < argc; ++i) {
      StatusOr<Digest> digest = ParseDigest(argv[i]);
      if (!digest.ok()) return 1;
      StatusOr<bool> present = store.Contains(*digest);
      if (!present.ok() || !*present) return 1;
    }
    std::cout << "ready" << std::endl;
    char c;
    while (::read(0, &c, 1) > 0) {
    }
    return 0;
  }
  std::cerr << "unknown mode " << mode << "\n";
  return 2;
}
