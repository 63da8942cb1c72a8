// The progress display of `cairn build` (see cairn/scheduler/progress.h).
#include "cairn/scheduler/progress.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <sys/ioctl.h>
#include <unistd.h>

#include "cairn/quote.h"

namespace cairn::scheduler {
namespace {

using std::chrono::steady_clock;

constexpr const char kClearLine[] = "\r\x1b[K";
constexpr const char kIndent[] = "    ";
constexpr size_t kDefaultWidth = 80;
// Often enough that a shown "(12s)" is never more than a quarter of a
// second late; a tick that changes nothing on screen writes nothing.
constexpr std::chrono::milliseconds kRefreshInterval(250);

// A UTF-8 continuation byte starts no column of its own. (East Asian wide
// characters take two columns; an element name made of them may end a few
// columns early or late, which the one column kept free absorbs in part.)
bool StartsColumn(char byte) { return (static_cast<unsigned char>(byte) & 0xc0) != 0x80; }

size_t Columns(std::string_view text) {
  size_t columns = 0;
  for (char byte : text) columns += StartsColumn(byte);
  return columns;
}

std::string TruncateColumns(std::string text, size_t max_columns) {
  size_t columns = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (StartsColumn(text[i]) && columns++ == max_columns) {
      text.resize(i);
      break;
    }
  }
  return text;
}

// Only an interrupted write(2) is tried again: progress is not worth
// failing or stalling a build for, so what cannot be written is dropped.
void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(written));
  }
}

size_t TerminalWidth(int fd) {
  struct winsize size {};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return kDefaultWidth;
}

std::string Duration(steady_clock::duration elapsed) {
  long seconds =
      static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
  if (seconds < 0) seconds = 0;
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%lds", seconds);
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof text, "%ldm%02lds", seconds / 60, seconds % 60);
  } else {
    std::snprintf(text, sizeof text, "%ldh%02ldm", seconds / 3600, seconds / 60 % 60);
  }
  return text;
}

// `line` without its SGR sequences ("\x1b[1;31m"): build logs are full of
// coloured compiler messages, whose colours would otherwise be printed as
// "\033[1;31m" noise around the words.
std::string WithoutColours(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    if (line.compare(i, 2, "\x1b[") == 0) {
      size_t end = line.find_first_not_of("0123456789;", i + 2);
      if (end != std::string_view::npos && line[end] == 'm') {
        i = end;
        continue;
      }
    }
    out += line[i];
  }
  return out;
}

// `text` as EscapeMessage prints it, and the C1 controls (U+0080..U+009F,
// which some terminals obey like ESC sequences: U+009B is CSI) escaped too.
std::string Printable(std::string_view text) {
  std::string escaped = EscapeMessage(text);
  if (escaped.find('\xc2') == std::string::npos) return escaped;
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    auto next = i + 1 < escaped.size() ? static_cast<unsigned char>(escaped[i + 1]) : 0;
    if (escaped[i] == '\xc2' && next >= 0x80 && next < 0xa0) {
      char octal[16];
      std::snprintf(octal, sizeof octal, "\\302\\%03o", next);
      out += octal;
      ++i;
      continue;
    }
    out += escaped[i];
  }
  return out;
}

// `text` split at newlines, each line without colours, Printable and
// indented; a final newline ends the last line rather than starting an
// empty one, and the '\r' of a CRLF line ending is dropped rather than
// shown as \015.
std::string IndentedLines(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += kIndent;
    out += Printable(WithoutColours(line));
    out += '\n';
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

size_t LineCount(std::string_view text) {
  size_t lines = 0;
  for (size_t start = 0; start < text.size(); ++lines) {
    size_t end = text.find('\n', start);
    start = end == std::string_view::npos ? text.size() : end + 1;
  }
  return lines;
}

bool ColorWanted() {
  const char* no_color = std::getenv("NO_COLOR");
  return no_color == nullptr || *no_color == '\0';
}

// The last `columns` columns of `text`.
std::string LastColumns(const std::string& text, size_t columns) {
  size_t total = Columns(text);
  if (total <= columns) return text;
  size_t skip = total - columns;
  for (size_t i = 0; i < text.size(); ++i) {
    if (StartsColumn(text[i]) && skip-- == 0) return text.substr(i);
  }
  return "";
}

struct RunningItem {
  std::string name;     // escaped
  std::string elapsed;  // "12s"
};

// The running builds (oldest first) in at most `room` columns: as many as
// fit, the rest summed up as "+N more". When not even the oldest fits
// whole, the end of its name (which tells elements apart better than the
// start) after "..."; when that is too short to tell anything, "+N more"
// alone, and the caller cuts the line.
std::string RunningList(const std::vector<RunningItem>& items, size_t room) {
  if (items.empty()) return "nothing";
  auto more = [&items](size_t shown) -> std::string {
    if (shown == items.size()) return "";
    return (shown ? ", +" : "+") + std::to_string(items.size() - shown) + " more";
  };
  std::string list;
  size_t shown = 0;
  for (; shown < items.size(); ++shown) {
    std::string longer =
        list + (shown ? ", " : "") + items[shown].name + " (" + items[shown].elapsed + ")";
    if (Columns(longer) + Columns(more(shown + 1)) > room) break;
    list = std::move(longer);
  }
  if (shown > 0) return list + more(shown);
  constexpr size_t kShortestUsefulName = 12;
  const std::string after_name = " (" + items[0].elapsed + ")" + more(1);
  const size_t name_room = room > Columns(after_name) + 3 ? room - Columns(after_name) - 3 : 0;
  if (name_room < kShortestUsefulName) return more(0);
  return "..." + LastColumns(items[0].name, name_room) + after_name;
}

steady_clock::time_point SteadyNow() { return steady_clock::now(); }

}  // namespace

ProgressReporter::ProgressReporter(int out_fd, bool terminal, size_t total, Clock clock)
    : out_fd_(out_fd),
      terminal_(terminal),
      total_(total),
      clock_(clock ? std::move(clock) : Clock(SteadyNow)),
      color_(terminal && ColorWanted()),
      start_(clock_()) {
  if (terminal_) refresher_ = std::thread([this] { RefreshLoop(); });
}

ProgressReporter::~ProgressReporter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!status_shown_.empty()) WriteAll(out_fd_, kClearLine);
}

void ProgressReporter::Report(const ProgressEvent& event) {
  // A session queues every element at its start: redrawing the status line
  // for each would write thousands of identical lines.
  if (event.event == ElementEvent::kQueued) return;
  std::lock_guard<std::mutex> lock(mutex_);
  switch (event.event) {
    case ElementEvent::kQueued:
      break;
    case ElementEvent::kCached:
      ++cached_;
      break;
    case ElementEvent::kPulled:
      ++pulled_;
      break;
    case ElementEvent::kStarted:
      running_.push_back({event.element, clock_()});
      break;
    case ElementEvent::kSucceeded:
      ++built_;
      StopRunning(event.element);
      break;
    case ElementEvent::kFailed:
      ++failed_;
      StopRunning(event.element);
      break;
    case ElementEvent::kSkipped:
      ++skipped_;
      StopRunning(event.element);
      break;
  }
  Emit(EventText(event));
}

void ProgressReporter::StopRunning(const std::string& element) {
  // Only as many are running as there are jobs: a scan is cheap.
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (it->element == element) {
      running_.erase(it);
      return;
    }
  }
}

void ProgressReporter::Log(const std::string& line) {
  std::string_view text = line;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::lock_guard<std::mutex> lock(mutex_);
  Emit(Printable(text) + "\n");
}

void ProgressReporter::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  double seconds = std::chrono::duration<double>(clock_() - start_).count();
  char summary[200];
  // "pulled" only where remote caches are in use, so the line reads as
  // before everywhere else.
  std::string pulled = pulled_ > 0 ? ", " + std::to_string(pulled_) + " pulled" : "";
  std::snprintf(summary, sizeof summary,
                "%zu built, %zu cached%s, %zu failed, %zu skipped in %.1f s\n", built_, cached_,
                pulled.c_str(), failed_, skipped_, seconds);
  finished_ = true;
  Emit(summary);
}

std::string ProgressReporter::EventText(const ProgressEvent& event) const {
  const char* tag = nullptr;
  const char* color = nullptr;
  switch (event.event) {
    case ElementEvent::kQueued:
      return "";
    case ElementEvent::kCached:
      tag = "CACHED ";
      color = "36";  // cyan
      break;
    case ElementEvent::kPulled:
      tag = "PULLED ";
      color = "35";  // magenta
      break;
    case ElementEvent::kStarted:
      tag = "START  ";
      color = "34";  // blue
      break;
    case ElementEvent::kSucceeded:
      tag = "SUCCESS";
      color = "32";  // green
      break;
    case ElementEvent::kFailed:
      tag = "FAILURE";
      color = "31";  // red
      break;
    case ElementEvent::kSkipped:
      tag = "SKIPPED";
      color = "33";  // yellow
      break;
  }
  std::string text =
      "[" + Timestamp() + "] " + Colored(color, tag) + " " + QuoteName(event.element);
  if (!event.cache_key.empty()) text += " (" + QuoteName(event.cache_key.substr(0, 8)) + ")";
  text += '\n';

  std::string details = IndentedLines(event.message);
  if (event.event == ElementEvent::kFailed) {
    if (!event.log_path.empty())
      details += kIndent + ("Log file: " + QuoteName(event.log_path)) + "\n";
    if (!event.log_tail.empty()) {
      const std::string rule = kIndent + std::string(70, '=') + "\n";
      details += kIndent + ("Printing the last " + std::to_string(LineCount(event.log_tail)) +
                            " lines from the log file:\n");
      details += rule + IndentedLines(event.log_tail) + rule;
    }
  }
  // As bst does, a blank line sets a block with details apart from the
  // next event's line.
  if (!details.empty()) text += details + "\n";
  return text;
}

std::string ProgressReporter::Timestamp() const {
  long seconds = static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(clock_() - start_).count());
  if (seconds < 0) seconds = 0;
  char text[32];
  std::snprintf(text, sizeof text, "%02ld:%02ld:%02ld", seconds / 3600, seconds / 60 % 60,
                seconds % 60);
  return text;
}

std::string ProgressReporter::Colored(const char* color, const std::string& text) const {
  if (!color_) return text;
  // The padding stays outside the colour, so only the word is coloured.
  size_t word = text.find_last_not_of(' ') + 1;
  return "\x1b[" + std::string(color) + "m" + text.substr(0, word) + "\x1b[0m" + text.substr(word);
}

std::string ProgressReporter::StatusLine(size_t width) const {
  // The last column stays free: writing into it makes some terminals wrap,
  // and a wrapped status line could not be cleared with one "\r\x1b[K".
  const size_t max_columns = width > 1 ? width - 1 : 1;
  const steady_clock::time_point now = clock_();
  const std::string prefix = "[" + std::to_string(built_ + cached_ + pulled_ + failed_ + skipped_) +
                             "/" + std::to_string(total_) + "] building: ";
  const std::string suffix =
      "  cached: " + std::to_string(cached_) + "  failed: " + std::to_string(failed_);

  std::vector<RunningItem> items;
  items.reserve(running_.size());
  for (const Running& running : running_) {
    items.push_back({QuoteName(running.element), Duration(now - running.started)});
  }
  const size_t fixed = Columns(prefix) + Columns(suffix);
  const std::string body = RunningList(items, max_columns > fixed ? max_columns - fixed : 0);
  return TruncateColumns(prefix + body + suffix, max_columns);
}

void ProgressReporter::Emit(const std::string& scrolled) {
  if (!terminal_ || finished_) {
    if (terminal_ && !status_shown_.empty()) {
      WriteAll(out_fd_, kClearLine + scrolled);
      status_shown_.clear();
    } else {
      WriteAll(out_fd_, scrolled);
    }
    return;
  }
  std::string status = StatusLine(TerminalWidth(out_fd_));
  std::string out = status_shown_.empty() ? "" : kClearLine;
  out += scrolled;
  out += status;
  WriteAll(out_fd_, out);
  status_shown_ = std::move(status);
}

void ProgressReporter::RefreshLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, kRefreshInterval, [this] { return stopping_; })) {
    // Nothing to refresh before the first event or after Finish.
    if (status_shown_.empty() || finished_) continue;
    std::string status = StatusLine(TerminalWidth(out_fd_));
    if (status == status_shown_) continue;
    WriteAll(out_fd_, kClearLine + status);
    status_shown_ = std::move(status);
  }
}

}  // namespace cairn::scheduler
