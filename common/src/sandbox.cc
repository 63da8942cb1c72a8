#include "cairn/sandbox.h"

namespace cairn {

std::string ExecuteStageName(ExecuteStage stage) {
  switch (stage) {
    case ExecuteStage::kCacheCheck:
      return "cache-check";
    case ExecuteStage::kUploading:
      return "uploading";
    case ExecuteStage::kQueued:
      return "queued";
    case ExecuteStage::kExecuting:
      return "executing";
    case ExecuteStage::kFetching:
      return "fetching";
    case ExecuteStage::kCompleted:
      return "completed";
  }
  return "stage-" + std::to_string(static_cast<int32_t>(stage));
}

}  // namespace cairn
