#include "cairn/plugin_support.h"

namespace cairn {

ExecuteOptions ExecuteOptionsFromAbi(const cairn_execute_options* options) {
  ExecuteOptions parsed;
  if (options == nullptr) return parsed;
  parsed.inline_stdout = (options->flags & CAIRN_EXECUTE_INLINE_STDOUT) != 0;
  parsed.inline_stderr = (options->flags & CAIRN_EXECUTE_INLINE_STDERR) != 0;
  parsed.skip_cache_lookup = (options->flags & CAIRN_EXECUTE_SKIP_CACHE_LOOKUP) != 0;
  if (CAIRN_ABI_HAS_FIELD(options, cairn_execute_options, live_output_fd)) {
    parsed.live_output_fd = options->live_output_fd;
  }
  if (CAIRN_ABI_HAS_FIELD(options, cairn_execute_options, is_cancelled) &&
      options->is_cancelled != nullptr) {
    parsed.is_cancelled = [options]() { return options->is_cancelled(options->context) != 0; };
  }
  if (CAIRN_ABI_HAS_FIELD(options, cairn_execute_options, progress) &&
      options->progress != nullptr) {
    parsed.progress = [options](const ExecuteProgress& progress) {
      cairn_execute_progress raw{};
      raw.struct_size = sizeof(raw);
      raw.stage = static_cast<int32_t>(progress.stage);
      raw.operation_name =
          progress.operation_name.empty() ? nullptr : progress.operation_name.c_str();
      raw.message = progress.message.empty() ? nullptr : progress.message.c_str();
      options->progress(options->context, &raw);
    };
  }
  return parsed;
}

void FillExecuteReport(const ExecuteOutcome& outcome, const cairn_execute_options* options) {
  if (options == nullptr || !CAIRN_ABI_HAS_FIELD(options, cairn_execute_options, report)) return;
  cairn_execute_report* report = options->report;
  if (report == nullptr) return;
  if (CAIRN_ABI_HAS_FIELD(report, cairn_execute_report, cached_result)) {
    report->cached_result = outcome.cached_result ? 1 : 0;
  }
  if (CAIRN_ABI_HAS_FIELD(report, cairn_execute_report, operation_name) &&
      !outcome.operation_name.empty()) {
    cairn_buffer_release(&report->operation_name);
    FillBuffer(&report->operation_name, outcome.operation_name);
  }
  if (CAIRN_ABI_HAS_FIELD(report, cairn_execute_report, message) && !outcome.message.empty()) {
    cairn_buffer_release(&report->message);
    FillBuffer(&report->message, outcome.message);
  }
}

}  // namespace cairn
