#include "fake_supervised_process.h"

#include <signal.h>

#include <algorithm>
#include <utility>

namespace cairn::testing {

int ExitedWith(int code) { return (code & 0xff) << 8; }
int KilledBy(int signal_number) { return signal_number & 0x7f; }

void FakeSupervisedProcess::OutputAt(Duration at, ProcessStream stream, std::string data) {
  Event event{at, Kind::kOutput};
  event.stream = stream;
  event.data = std::move(data);
  Schedule(std::move(event));
}

void FakeSupervisedProcess::ExitAt(Duration at, int wait_status) {
  Event event{at, Kind::kExit};
  event.wait_status = wait_status;
  Schedule(std::move(event));
}

void FakeSupervisedProcess::CloseStreamsAt(Duration at) {
  streams_close_at_ = at;
  Schedule(Event{at, Kind::kCloseStreams});
}

void FakeSupervisedProcess::FailWaitAt(Duration at, Status status) {
  Event event{at, Kind::kFailWait};
  event.failure = std::move(status);
  Schedule(std::move(event));
}

void FakeSupervisedProcess::Schedule(Event event) {
  auto later = std::upper_bound(pending_.begin(), pending_.end(), event.at,
                                [](Duration at, const Event& e) { return at < e.at; });
  pending_.insert(later, std::move(event));
}

Status FakeSupervisedProcess::ApplyDue(ProcessOutput* output, bool in_wait, bool* happened) {
  while (!pending_.empty() && pending_.front().at <= Elapsed()) {
    // A failing wait belongs to WaitForActivity; TryReap leaves it due.
    if (pending_.front().kind == Kind::kFailWait && !in_wait) break;
    Event event = std::move(pending_.front());
    pending_.erase(pending_.begin());
    if (happened != nullptr) *happened = true;
    switch (event.kind) {
      case Kind::kOutput:
        (event.stream == ProcessStream::kStdout   ? output->stdout_data
         : event.stream == ProcessStream::kStderr ? output->stderr_data
                                                  : output->status_data) += event.data;
        break;
      case Kind::kExit:
        if (exit_status_) break;  // a second death changes nothing
        exit_status_ = event.wait_status;
        // Pipes reach end of file when the last writer dies.
        if (!streams_close_at_) streams_closed_ = true;
        break;
      case Kind::kCloseStreams:
        streams_closed_ = true;
        break;
      case Kind::kFailWait:
        return event.failure;
    }
  }
  return Status::Ok();
}

std::optional<int> FakeSupervisedProcess::TryReap() {
  (void)ApplyDue(&buffered_, /*in_wait=*/false, nullptr);
  return exit_status_;
}

Status FakeSupervisedProcess::WaitForActivity(std::chrono::milliseconds max_wait,
                                              ProcessOutput* output) {
  bool happened = false;
  Status failure = ApplyDue(&buffered_, /*in_wait=*/true, &happened);
  bool ready = happened || !buffered_.stdout_data.empty() || !buffered_.stderr_data.empty() ||
               !buffered_.status_data.empty();
  if (failure.ok() && !ready) {
    // Nothing to read now: the wait lasts until the next event, at most max_wait.
    Duration target = Elapsed() + max_wait;
    if (!pending_.empty()) target = std::min(target, std::max(Elapsed(), pending_.front().at));
    clock_.Advance(target - Elapsed());
    failure = ApplyDue(&buffered_, /*in_wait=*/true, nullptr);
  }
  if (failure.ok() && Elapsed() > give_up_after_) {
    failure = Internal("the fake process was still supervised after " +
                       std::to_string(Elapsed().count()) + " ms of fake time");
  }
  output->stdout_data += std::exchange(buffered_.stdout_data, "");
  output->stderr_data += std::exchange(buffered_.stderr_data, "");
  output->status_data += std::exchange(buffered_.status_data, "");
  return failure;
}

bool FakeSupervisedProcess::HasOpenStreams() const {
  return !streams_closed_ || !buffered_.stdout_data.empty() || !buffered_.stderr_data.empty() ||
         !buffered_.status_data.empty();
}

void FakeSupervisedProcess::KillTree(const std::string& status_text) {
  Note("kill-tree");
  status_text_at_kill_ = status_text;
  if (kill_tree_delay_) ExitAt(Elapsed() + *kill_tree_delay_, KilledBy(SIGKILL));
}

void FakeSupervisedProcess::KillProcessGroup() {
  Note("kill-group");
  ExitAt(Elapsed(), KilledBy(SIGKILL));
}

int FakeSupervisedProcess::Reap() {
  Note("reap");
  while (!exit_status_) {
    // A real waitpid() would block until the death; jump there.
    if (pending_.empty()) return KilledBy(SIGKILL);
    clock_.Advance(std::max(Duration(0), pending_.front().at - Elapsed()));
    (void)ApplyDue(&buffered_, /*in_wait=*/true, nullptr);
  }
  return *exit_status_;
}

void FakeSupervisedProcess::WaitForTree(const std::string&) { log_.push_back("wait-for-tree"); }

void FakeSupervisedProcess::Note(const std::string& what) {
  log_.push_back(what + " at " + std::to_string(Elapsed().count()) + " ms");
}

}  // namespace cairn::testing
