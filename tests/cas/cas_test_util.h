// cas_test_util.h — temporary directories, files and a store fixture for
// the cas-local tests. Every store is the real plugin loaded through the ABI.
#ifndef CAIRN_TESTS_CAS_CAS_TEST_UTIL_H
#define CAIRN_TESTS_CAS_CAS_TEST_UTIL_H

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "cairn/merkle.h"
#include "loaded_store.h"

namespace cairn::testing {

// A fresh directory under $TMPDIR, removed (with everything in it) at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0644);
std::string ReadFile(const std::string& path);
void MakeDir(const std::string& path);
void MakeSymlink(const std::string& target, const std::string& path);
struct stat Lstat(const std::string& path);
bool Exists(const std::string& path);
// Runs a shell command, returns its exit status.
int Shell(const std::string& command);
// Runs argv (no shell) and returns its stdout; *exit_status gets the status.
std::string RunProgram(const std::vector<std::string>& argv, int* exit_status);

// Path of the built plugin and of the helper executable (set by CMake).
std::string PluginPath();
std::string HelperPath();

// A test with a temp dir and a store opened at <temp>/store.
class CasTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(""); }
  // Closes and reopens the store with extra option lines.
  void Reopen(const std::string& extra_options);
  std::string StorePath() const { return temp_ / "store"; }
  std::string ObjectPath(const Digest& digest) const;
  Storage& store() { return loaded_->storage(); }

  TempDir temp_;
  std::unique_ptr<LoadedStore> loaded_;
};

#define ASSERT_OK(expr)                                            \
  do {                                                             \
    ::cairn::Status assert_status_ = (expr);                       \
    ASSERT_TRUE(assert_status_.ok()) << assert_status_.ToString(); \
  } while (false)

// Unwraps a StatusOr or fails the test.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                         \
  auto CAIRN_CONCAT(statusor_, __LINE__) = (expr);              \
  ASSERT_TRUE(CAIRN_CONCAT(statusor_, __LINE__).ok())           \
      << CAIRN_CONCAT(statusor_, __LINE__).status().ToString(); \
  lhs = std::move(CAIRN_CONCAT(statusor_, __LINE__)).value()

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_CAS_CAS_TEST_UTIL_H
