// ProgressReporter: the exact lines it writes to a pipe, and, with
// terminal=true, what a terminal would show after its status lines were
// drawn and cleared (a small screen model below replays the bytes).
#include "cairn/scheduler/progress.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace cairn::scheduler {
namespace {

using std::chrono::steady_clock;

// A clock the test moves by hand; read by the refresher thread too.
class FakeClock {
 public:
  void Advance(std::chrono::milliseconds by) { now_ms_ += by.count(); }
  ProgressReporter::Clock AsFunction() {
    return [this] { return steady_clock::time_point(std::chrono::milliseconds(now_ms_.load())); };
  }

 private:
  std::atomic<int64_t> now_ms_{1'000'000};
};

// The read end of a pipe is drained without blocking; a test writes less
// than the pipe's buffer between two reads.
class Pipe {
 public:
  Pipe() {
    EXPECT_EQ(pipe(fds_), 0);
    fcntl(fds_[0], F_SETFL, O_NONBLOCK);
  }
  ~Pipe() {
    close(fds_[0]);
    close(fds_[1]);
  }
  int write_fd() const { return fds_[1]; }
  // Everything written so far, accumulated over calls.
  const std::string& Read() {
    char buffer[4096];
    ssize_t n;
    while ((n = read(fds_[0], buffer, sizeof buffer)) > 0) bytes_.append(buffer, n);
    return bytes_;
  }

 private:
  int fds_[2];
  std::string bytes_;
};

// Sets or unsets NO_COLOR for one test.
class NoColor {
 public:
  explicit NoColor(const char* value) {
    if (const char* old = getenv("NO_COLOR")) old_ = old;
    if (value) {
      setenv("NO_COLOR", value, 1);
    } else {
      unsetenv("NO_COLOR");
    }
  }
  ~NoColor() {
    if (old_) {
      setenv("NO_COLOR", old_->c_str(), 1);
    } else {
      unsetenv("NO_COLOR");
    }
  }

 private:
  std::optional<std::string> old_;
};

bool IsStatusLine(const std::string& line) {
  return std::regex_search(line, std::regex(R"(^\[\d+/\d+\] building: )"));
}

// What a terminal `width` columns wide shows after `bytes`: text, "\r",
// "\n" (as a tty's ONLCR makes it: a new line at column 0), erase to end
// of line "\x1b[K" and SGR colours "\x1b[...m" (ignored). Any other
// escape sequence, and a status line reaching the last column (where
// some terminals wrap), is a failure; other lines wrap.
struct Screen {
  std::vector<std::string> lines{""};
  size_t column = 0;
  std::vector<std::string> errors;
};

Screen Replay(const std::string& bytes, size_t width = 80) {
  Screen screen;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string& line = screen.lines.back();
    char byte = bytes[i];
    if (byte == '\r') {
      screen.column = 0;
    } else if (byte == '\n') {
      screen.lines.emplace_back();
      screen.column = 0;
    } else if (byte == '\x1b') {
      size_t end = bytes.find_first_not_of("0123456789;", i + 2);
      if (bytes.compare(i, 2, "\x1b[") != 0 || end == std::string::npos ||
          (bytes[end] != 'K' && bytes[end] != 'm') || (bytes[end] == 'K' && end != i + 2)) {
        screen.errors.push_back("unexpected escape at byte " + std::to_string(i));
        continue;
      }
      if (bytes[end] == 'K') {
        // Columns are bytes here: the tests' texts are ASCII.
        if (line.size() > screen.column) line.resize(screen.column);
      }
      i = end;
    } else {
      if (screen.column == width) {  // a long scrolled line wraps
        screen.lines.emplace_back();
        screen.column = 0;
      }
      std::string& row = screen.lines.back();
      if (row.size() <= screen.column) row.resize(screen.column + 1, ' ');
      row[screen.column++] = byte;
      if (screen.column == width && IsStatusLine(row)) {
        screen.errors.push_back("a status line reaches the last column: " + row);
      }
    }
  }
  return screen;
}

// The screen's lines, trailing empty lines dropped.
std::vector<std::string> Shown(const Screen& screen) {
  std::vector<std::string> lines = screen.lines;
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

size_t StatusLineCount(const std::vector<std::string>& lines) {
  size_t count = 0;
  for (const std::string& line : lines) count += IsStatusLine(line);
  return count;
}

ProgressEvent Event(ElementEvent kind, const std::string& element, const std::string& key = "") {
  ProgressEvent event;
  event.event = kind;
  event.element = element;
  event.cache_key = key;
  return event;
}

TEST(ProgressPlain, PrintsOneTimestampedLinePerEventAndNothingForQueued) {
  NoColor no_color(nullptr);
  Pipe pipe;
  FakeClock clock;
  {
    ProgressReporter progress(pipe.write_fd(), /*terminal=*/false, 4, clock.AsFunction());
    progress.Report(Event(ElementEvent::kQueued, "base/busybox.bst", "1a2b3c4d5e6f"));
    progress.Report(Event(ElementEvent::kCached, "base/alpine.bst", "5e6f7a8b9c0d"));
    clock.Advance(std::chrono::milliseconds(1500));
    progress.Report(Event(ElementEvent::kStarted, "base/busybox.bst", "1a2b3c4d5e6f"));
    clock.Advance(std::chrono::seconds(3725));
    ProgressEvent success = Event(ElementEvent::kSucceeded, "base/busybox.bst", "1a2b3c4d5e6f");
    success.log_path = "/logs/busybox.log";
    progress.Report(success);
    progress.Report(Event(ElementEvent::kSkipped, "app/hello.bst"));
  }
  EXPECT_EQ(pipe.Read(),
            "[00:00:00] CACHED  base/alpine.bst (5e6f7a8b)\n"
            "[00:00:01] START   base/busybox.bst (1a2b3c4d)\n"
            "[01:02:06] SUCCESS base/busybox.bst (1a2b3c4d)\n"
            "[01:02:06] SKIPPED app/hello.bst\n");
}

TEST(ProgressPlain, PrintsAFailureWithItsMessageLogFileAndIndentedLogTail) {
  Pipe pipe;
  FakeClock clock;
  ProgressReporter progress(pipe.write_fd(), false, 2, clock.AsFunction());
  clock.Advance(std::chrono::seconds(7));
  ProgressEvent failure = Event(ElementEvent::kFailed, "app/hello.bst", "9c0d1e2f3a4b");
  failure.message = "install-commands[2] `make install` exited with code 2";
  failure.log_path = "/logs/app/hello/9c0d1e2f-build.log";
  failure.log_tail = "install -m 755 hello /usr/bin\r\nmake: *** [install] Error 2\n";
  progress.Report(failure);
  progress.Report(Event(ElementEvent::kSkipped, "app/world.bst", "3a4b5c6d"));
  const std::string rule = "    " + std::string(70, '=') + "\n";
  EXPECT_EQ(pipe.Read(),
            "[00:00:07] FAILURE app/hello.bst (9c0d1e2f)\n"
            "    install-commands[2] `make install` exited with code 2\n"
            "    Log file: /logs/app/hello/9c0d1e2f-build.log\n"
            "    Printing the last 2 lines from the log file:\n" +
                rule +
                "    install -m 755 hello /usr/bin\n"
                "    make: *** [install] Error 2\n" +
                rule +
                "\n"
                "[00:00:07] SKIPPED app/world.bst (3a4b5c6d)\n");
}

TEST(ProgressPlain, EscapesControlBytesFromNamesMessagesAndLogs) {
  NoColor no_color(nullptr);
  Pipe pipe;
  ProgressReporter progress(pipe.write_fd(), false, 1);
  ProgressEvent failure = Event(ElementEvent::kFailed, "evil\x1b[2J.bst", "abc");
  failure.message =
      "bad\x07 bell, \xc2\x9b"
      "2J C1 CSI, caf\xc3\xa9 kept";
  failure.log_tail = "\x1b[1;31mred\x1b[0m then \x1b[2J\n";
  progress.Report(failure);
  progress.Log("warning: \x1b]0;title\x07");
  const std::string& out = pipe.Read();
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
  EXPECT_NE(out.find("evil\\033[2J.bst"), std::string::npos) << out;
  EXPECT_NE(out.find("    bad\\007 bell, \\302\\2332J C1 CSI, caf\xc3\xa9 kept\n"),
            std::string::npos)
      << out;
  // Colours in a log are dropped; other sequences are shown escaped.
  EXPECT_NE(out.find("    red then \\033[2J\n"), std::string::npos) << out;
  EXPECT_NE(out.find("warning: \\033]0;title\\007\n"), std::string::npos) << out;
}

TEST(ProgressPlain, LogPrintsTheLineAsItIs) {
  Pipe pipe;
  ProgressReporter progress(pipe.write_fd(), false, 1);
  progress.Log("[WARNING] project.conf: option 'arch' is unused");
  progress.Log("ends with its own newline\n");
  EXPECT_EQ(pipe.Read(),
            "[WARNING] project.conf: option 'arch' is unused\n"
            "ends with its own newline\n");
}

TEST(ProgressPlain, FinishPrintsTheCountsOfEachOutcomeAndTheTimeTaken) {
  Pipe pipe;
  FakeClock clock;
  ProgressReporter progress(pipe.write_fd(), false, 5, clock.AsFunction());
  progress.Report(Event(ElementEvent::kCached, "a.bst"));
  progress.Report(Event(ElementEvent::kStarted, "b.bst"));
  progress.Report(Event(ElementEvent::kSucceeded, "b.bst"));
  progress.Report(Event(ElementEvent::kStarted, "c.bst"));
  progress.Report(Event(ElementEvent::kSucceeded, "c.bst"));
  progress.Report(Event(ElementEvent::kStarted, "d.bst"));
  progress.Report(Event(ElementEvent::kFailed, "d.bst"));
  progress.Report(Event(ElementEvent::kSkipped, "e.bst"));
  clock.Advance(std::chrono::milliseconds(12'460));
  size_t before = pipe.Read().size();
  progress.Finish();
  EXPECT_EQ(pipe.Read().substr(before), "2 built, 1 cached, 1 failed, 1 skipped in 12.5 s\n");
}

TEST(ProgressPlain, UsesNoColoursEvenWhenNoColorIsUnset) {
  NoColor no_color(nullptr);
  Pipe pipe;
  ProgressReporter progress(pipe.write_fd(), false, 1);
  progress.Report(Event(ElementEvent::kStarted, "a.bst"));
  progress.Report(Event(ElementEvent::kSucceeded, "a.bst"));
  progress.Finish();
  EXPECT_EQ(pipe.Read().find('\x1b'), std::string::npos);
}

TEST(ProgressPlain, ReportsFromManyThreadsNeverShareALine) {
  Pipe pipe;
  const int kThreads = 8, kEach = 40;
  {
    ProgressReporter progress(pipe.write_fd(), false, kThreads * kEach);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&progress, t] {
        for (int i = 0; i < kEach; ++i) {
          std::string name = "t" + std::to_string(t) + "/e" + std::to_string(i) + ".bst";
          progress.Report(Event(ElementEvent::kStarted, name, "0123456789"));
          progress.Report(Event(ElementEvent::kSucceeded, name, "0123456789"));
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  std::istringstream lines(pipe.Read());
  std::string line;
  int count = 0;
  const std::regex shape(R"(\[00:00:\d\d\] (START  |SUCCESS) t\d/e\d+\.bst \(01234567\))");
  while (std::getline(lines, line)) {
    EXPECT_TRUE(std::regex_match(line, shape)) << line;
    ++count;
  }
  EXPECT_EQ(count, 2 * kThreads * kEach);
}

TEST(ProgressTerminal, DrawsTheStatusLineAfterEachEventAndClearsItBeforeTheNextLine) {
  NoColor no_color("1");
  Pipe pipe;
  FakeClock clock;
  ProgressReporter progress(pipe.write_fd(), /*terminal=*/true, 3, clock.AsFunction());
  progress.Report(Event(ElementEvent::kStarted, "a.bst", "1234567890"));
  EXPECT_EQ(pipe.Read(),
            "[00:00:00] START   a.bst (12345678)\n"
            "[0/3] building: a.bst (0s)  cached: 0  failed: 0");
  progress.Report(Event(ElementEvent::kCached, "b.bst", "abcdef0123"));
  EXPECT_EQ(pipe.Read(),
            "[00:00:00] START   a.bst (12345678)\n"
            "[0/3] building: a.bst (0s)  cached: 0  failed: 0"
            "\r\x1b[K[00:00:00] CACHED  b.bst (abcdef01)\n"
            "[1/3] building: a.bst (0s)  cached: 1  failed: 0");
}

TEST(ProgressTerminal, ScreenShowsEachLineOnceAndOneCurrentStatusLineAtTheBottom) {
  NoColor no_color(nullptr);
  Pipe pipe;
  FakeClock clock;
  ProgressReporter progress(pipe.write_fd(), true, 5, clock.AsFunction());
  progress.Report(Event(ElementEvent::kCached, "a.bst"));
  progress.Report(Event(ElementEvent::kStarted, "b.bst"));
  clock.Advance(std::chrono::seconds(9));
  progress.Report(Event(ElementEvent::kStarted, "c.bst"));
  progress.Log("a warning");
  clock.Advance(std::chrono::seconds(3));
  ProgressEvent failure = Event(ElementEvent::kFailed, "d.bst");
  failure.message = "it broke";
  progress.Report(Event(ElementEvent::kStarted, "d.bst"));
  progress.Report(failure);
  Screen screen = Replay(pipe.Read());
  EXPECT_TRUE(screen.errors.empty()) << screen.errors.front();
  EXPECT_EQ(Shown(screen), (std::vector<std::string>{
                               "[00:00:00] CACHED  a.bst",
                               "[00:00:00] START   b.bst",
                               "[00:00:09] START   c.bst",
                               "a warning",
                               "[00:00:12] START   d.bst",
                               "[00:00:12] FAILURE d.bst",
                               "    it broke",
                               "",
                               "[2/5] building: b.bst (12s), c.bst (3s)  cached: 1  failed: 1",
                           }));
}

TEST(ProgressTerminal, QueuedElementsDrawNothing) {
  Pipe pipe;
  ProgressReporter progress(pipe.write_fd(), true, 3);
  for (const char* name : {"a.bst", "b.bst", "c.bst"}) {
    progress.Report(Event(ElementEvent::kQueued, name));
  }
  EXPECT_EQ(pipe.Read(), "");
}

TEST(ProgressTerminal, RefresherUpdatesElapsedTimesWithoutEvents) {
  NoColor no_color("1");
  Pipe pipe;
  FakeClock clock;
  ProgressReporter progress(pipe.write_fd(), true, 1, clock.AsFunction());
  progress.Report(Event(ElementEvent::kStarted, "slow.bst"));
  clock.Advance(std::chrono::seconds(65));
  const std::string expected = "[0/1] building: slow.bst (1m05s)  cached: 0  failed: 0";
  std::vector<std::string> shown;
  for (int tries = 0; tries < 100; ++tries) {  // up to 5 s; a tick is 0.25 s
    shown = Shown(Replay(pipe.Read()));
    if (shown.back() == expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(shown, (std::vector<std::string>{"[00:00:00] START   slow.bst", expected}));
}

TEST(ProgressTerminal, RefresherWritesNothingWhileTheStatusLineStaysTheSame) {
  NoColor no_color("1");
  Pipe pipe;
  FakeClock clock;  // stands still
  ProgressReporter progress(pipe.write_fd(), true, 1, clock.AsFunction());
  progress.Report(Event(ElementEvent::kStarted, "a.bst"));
  const std::string before = pipe.Read();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // a few ticks
  EXPECT_EQ(pipe.Read(), before);
}

TEST(ProgressTerminal, DestructorStopsTheRefresherWithoutWaitingForItsTick) {
  Pipe pipe;
  std::optional<ProgressReporter> progress;
  progress.emplace(pipe.write_fd(), true, 1);
  progress->Report(Event(ElementEvent::kStarted, "a.bst"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the refresher is waiting
  auto start = steady_clock::now();
  progress.reset();
  // A refresher that slept through its interval would take up to 250 ms.
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(ProgressTerminal, StatusLineIsCutToTheWidthKeepingTheCounts) {
  NoColor no_color("1");
  Pipe pipe;
  FakeClock clock;
  ProgressReporter progress(pipe.write_fd(), true, 6, clock.AsFunction());
  for (int i = 0; i < 6; ++i) {
    progress.Report(
        Event(ElementEvent::kStarted, "components/long-name-" + std::to_string(i) + ".bst"));
  }
  Screen screen = Replay(pipe.Read());  // a pipe has no size: 80 columns
  EXPECT_TRUE(screen.errors.empty()) << screen.errors.front();
  EXPECT_EQ(Shown(screen).back(),
            "[0/6] building: components/long-name-0.bst (0s), +5 more  cached: 0  failed: 0");
}

TEST(ProgressTerminal, ANameTooLongForTheLineKeepsItsEnd) {
  NoColor no_color("1");
  Pipe pipe;
  ProgressReporter progress(pipe.write_fd(), true, 1);
  progress.Report(Event(ElementEvent::kStarted, std::string(200, 'x') + ".bst"));
  Screen screen = Replay(pipe.Read());
  EXPECT_TRUE(screen.errors.empty()) << screen.errors.front();
  // Its end tells it apart better than its start.
  EXPECT_EQ(Shown(screen).back(),
            "[0/1] building: ..." + std::string(29, 'x') + ".bst (0s)  cached: 0  failed: 0");
}

TEST(ProgressTerminal, StatusLineFollowsTheWidthOfARealTerminal) {
  NoColor no_color("1");
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) GTEST_SKIP() << "no pseudo-terminals here: " << strerror(errno);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  int tty = open(ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(tty, 0);
  struct winsize size {};
  size.ws_col = 40;
  size.ws_row = 10;
  ASSERT_EQ(ioctl(tty, TIOCSWINSZ, &size), 0);
  {
    ProgressReporter progress(tty, true, 12);
    progress.Report(Event(ElementEvent::kStarted, "base/busybox.bst"));
    progress.Report(Event(ElementEvent::kStarted, "base/alpine.bst"));
  }
  fcntl(master, F_SETFL, O_NONBLOCK);
  std::string bytes;
  char buffer[4096];
  ssize_t n;
  while ((n = read(master, buffer, sizeof buffer)) > 0) bytes.append(buffer, n);
  close(tty);
  close(master);
  // The reporter's destructor cleared the last status line; the one before
  // is in the bytes, cut to 39 columns.
  EXPECT_NE(bytes.find("\r\n[0/12] building: +2 more  cached: 0  fa\r\x1b[K"), std::string::npos)
      << bytes;
  Screen screen = Replay(bytes, 40);
  EXPECT_TRUE(screen.errors.empty()) << screen.errors.front();
  EXPECT_EQ(StatusLineCount(Shown(screen)), 0u);
}

TEST(ProgressTerminal, FinishReplacesTheStatusLineWithTheSummaryForGood) {
  NoColor no_color("1");
  Pipe pipe;
  FakeClock clock;
  ProgressReporter progress(pipe.write_fd(), true, 2, clock.AsFunction());
  progress.Report(Event(ElementEvent::kStarted, "a.bst"));
  clock.Advance(std::chrono::seconds(2));
  progress.Report(Event(ElementEvent::kSucceeded, "a.bst"));
  progress.Finish();
  progress.Log("after the end");
  Screen screen = Replay(pipe.Read());
  EXPECT_TRUE(screen.errors.empty()) << screen.errors.front();
  EXPECT_EQ(Shown(screen), (std::vector<std::string>{
                               "[00:00:00] START   a.bst",
                               "[00:00:02] SUCCESS a.bst",
                               "1 built, 0 cached, 0 failed, 0 skipped in 2.0 s",
                               "after the end",
                           }));
}

TEST(ProgressTerminal, DestructorClearsTheStatusLine) {
  NoColor no_color("1");
  Pipe pipe;
  {
    ProgressReporter progress(pipe.write_fd(), true, 2);
    progress.Report(Event(ElementEvent::kStarted, "a.bst"));
  }
  const std::string& bytes = pipe.Read();
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "\r\x1b[K");
  EXPECT_EQ(Shown(Replay(bytes)), (std::vector<std::string>{"[00:00:00] START   a.bst"}));
}

TEST(ProgressTerminal, ColoursTheKindOfEachLineUnlessNoColorIsSet) {
  for (const char* setting : {static_cast<const char*>(nullptr), "", "1"}) {
    NoColor no_color(setting);
    Pipe pipe;
    {
      ProgressReporter progress(pipe.write_fd(), true, 3);
      progress.Report(Event(ElementEvent::kCached, "a.bst"));
      progress.Report(Event(ElementEvent::kStarted, "b.bst"));
      progress.Report(Event(ElementEvent::kSucceeded, "b.bst"));
      progress.Report(Event(ElementEvent::kStarted, "c.bst"));
      progress.Report(Event(ElementEvent::kFailed, "c.bst"));
    }
    const std::string& bytes = pipe.Read();
    bool colored = setting == nullptr || *setting == '\0';
    SCOPED_TRACE(setting ? std::string("NO_COLOR=") + setting : "NO_COLOR unset");
    EXPECT_EQ(bytes.find("\x1b[36mCACHED\x1b[0m  a.bst") != std::string::npos, colored);
    EXPECT_EQ(bytes.find("\x1b[32mSUCCESS\x1b[0m b.bst") != std::string::npos, colored);
    EXPECT_EQ(bytes.find("\x1b[31mFAILURE\x1b[0m c.bst") != std::string::npos, colored);
    if (!colored) {
      EXPECT_EQ(bytes.find("\x1b[3"), std::string::npos);
    }
  }
}

TEST(ProgressTerminal, ReportsFromManyThreadsLeaveOneStatusLineAtTheBottom) {
  NoColor no_color(nullptr);
  Pipe pipe;
  const int kThreads = 4, kEach = 25;
  {
    ProgressReporter progress(pipe.write_fd(), true, kThreads * kEach);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&progress, t] {
        for (int i = 0; i < kEach; ++i) {
          std::string name = "t" + std::to_string(t) + "/e" + std::to_string(i) + ".bst";
          progress.Report(Event(ElementEvent::kStarted, name));
          progress.Report(Event(ElementEvent::kSucceeded, name));
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    progress.Finish();
  }
  Screen screen = Replay(pipe.Read());
  EXPECT_TRUE(screen.errors.empty()) << screen.errors.front();
  std::vector<std::string> shown = Shown(screen);
  ASSERT_EQ(shown.size(), 2u * kThreads * kEach + 1);
  EXPECT_EQ(StatusLineCount(shown), 0u);
  EXPECT_TRUE(std::regex_match(
      shown.back(), std::regex(R"(100 built, 0 cached, 0 failed, 0 skipped in \d+\.\d s)")))
      << shown.back();
}

}  // namespace
}  // namespace cairn::scheduler
