// local_cas_options.h — the options of a cas-local store (see local_cas.h).
#ifndef CAIRN_CAS_LOCAL_LOCAL_CAS_OPTIONS_H
#define CAIRN_CAS_LOCAL_LOCAL_CAS_OPTIONS_H

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::cas_local {

struct LocalCasOptions {
  std::string path;
  uint64_t quota_bytes = 0;  // 0 = none
  double high_watermark = 1.0;
  double low_watermark = 0.8;
  int threads = 2;
  bool verify_on_stage = false;  // hash hardlinked files too (object_stager.h)

  // Parses the plugin's options; a percentage quota is resolved against the
  // filesystem holding `path` (which must exist by then).
  static StatusOr<LocalCasOptions> Parse(std::string_view yaml);
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_LOCAL_CAS_OPTIONS_H
