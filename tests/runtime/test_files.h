// A temporary directory with helpers to write files into it; removed with
// the object.
#ifndef CAIRN_TESTS_RUNTIME_TEST_FILES_H
#define CAIRN_TESTS_RUNTIME_TEST_FILES_H

#include <filesystem>
#include <fstream>
#include <string>

#include <stdlib.h>

namespace cairn {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/cairn-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& relative, const std::string& text) const {
    std::filesystem::path file = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }

 private:
  std::string path_;
};

}  // namespace cairn

#endif  // CAIRN_TESTS_RUNTIME_TEST_FILES_H
