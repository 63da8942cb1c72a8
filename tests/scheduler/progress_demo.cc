// A scripted build shown by ProgressReporter on stderr, at the pace of a
// real one, for terminal_progress_pty_test.sh to watch in a real terminal:
// six elements, four built at once under long names (so the status line is
// cut to the width), one cached, one failed with its log tail, one skipped.
// The summary is "3 built, 1 cached, 1 failed, 1 skipped in T s".
#include <chrono>
#include <string>
#include <thread>

#include <unistd.h>

#include "cairn/scheduler/progress.h"

namespace {

using cairn::scheduler::ElementEvent;
using cairn::scheduler::ProgressEvent;
using cairn::scheduler::ProgressReporter;

void Pause(int milliseconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
}

ProgressEvent Event(ElementEvent kind, const std::string& element, const std::string& key) {
  ProgressEvent event;
  event.event = kind;
  event.element = element;
  event.cache_key = key;
  return event;
}

}  // namespace

int main() {
  const std::string busybox = "base/busybox-with-a-rather-long-element-name.bst";
  const std::string gcc = "components/gcc-toolchain-stage1.bst";
  const std::string zlib = "components/zlib.bst";
  const std::string openssl = "components/openssl.bst";

  ProgressReporter progress(STDERR_FILENO, isatty(STDERR_FILENO), 6);
  progress.Log("[WARNING] demo: a scripted build, nothing is built");
  progress.Report(Event(ElementEvent::kCached, "base/alpine.bst", "5e6f7a8b9c0d1e2f"));
  progress.Report(Event(ElementEvent::kStarted, busybox, "1a2b3c4d5e6f7a8b"));
  Pause(300);
  progress.Report(Event(ElementEvent::kStarted, gcc, "2b3c4d5e6f7a8b9c"));
  progress.Report(Event(ElementEvent::kStarted, zlib, "3c4d5e6f7a8b9c0d"));
  progress.Report(Event(ElementEvent::kStarted, openssl, "4d5e6f7a8b9c0d1e"));
  Pause(1600);  // the refresher redraws the elapsed times meanwhile
  ProgressEvent zlib_done = Event(ElementEvent::kSucceeded, zlib, "3c4d5e6f7a8b9c0d");
  zlib_done.log_path = "/tmp/cairn-demo/logs/zlib.log";
  progress.Report(zlib_done);
  Pause(600);
  ProgressEvent failure = Event(ElementEvent::kFailed, openssl, "4d5e6f7a8b9c0d1e");
  failure.message = "install-commands[2] `make install` exited with code 2";
  failure.log_path = "/tmp/cairn-demo/logs/openssl.log";
  failure.log_tail =
      "cp libcrypto.so /usr/lib\n"
      "\x1b[31mcp: cannot create regular file '/usr/lib': Read-only file system\x1b[0m\n"
      "make: *** [install] Error 2\n";
  progress.Report(failure);
  progress.Report(Event(ElementEvent::kSkipped, "app/curl.bst", "5f6a7b8c9d0e1f2a"));
  Pause(1200);
  progress.Report(Event(ElementEvent::kSucceeded, gcc, "2b3c4d5e6f7a8b9c"));
  Pause(200);
  progress.Report(Event(ElementEvent::kSucceeded, busybox, "1a2b3c4d5e6f7a8b"));
  progress.Finish();
  return 0;
}
