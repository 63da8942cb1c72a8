// One source, many plugins: each build of this file with a CAIRN_VARIANT_*
// definition breaks the plugin contract in one way, so the host's loader
// is tested against real shared objects (as the Vulkan loader's tests do).
// Without a variant it is a well-formed sandbox plugin whose callbacks do
// nothing useful.
//
// The CAIRN_VARIANT_CRASH_* and CAIRN_VARIANT_HANG_* variants kill or
// block whatever process loads them, at load time (a static constructor),
// in the entry symbol, or in `create`: they are built into directories of
// their own, which only the tests about crashing plugins put on a search
// path.
//
// Written against plugin.h alone, without Cairn's C++ helpers, and with no
// exception guards: CAIRN_VARIANT_THROWING_CALLBACK throws straight through
// the C ABI, as a careless third-party plugin would.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "cairn/plugin.h"
#include "raw_error.h"

namespace {

using raw_plugin::Fail;

#if defined(CAIRN_VARIANT_CRASH_IN_ENTRY) || defined(CAIRN_VARIANT_CRASH_IN_CREATE)
// A segmentation fault the compiler cannot optimise away.
void Segfault() { std::raise(SIGSEGV); }
#endif

#ifdef CAIRN_VARIANT_CRASH_IN_CONSTRUCTOR
// Runs when the library is loaded, before the host can call anything.
[[maybe_unused]] const bool kAborted = (std::abort(), true);
#endif

int32_t Create(const cairn_host_services*, const char*, uint64_t, void** sandbox, cairn_error*) {
#ifdef CAIRN_VARIANT_CRASH_IN_CREATE
  Segfault();
#endif
  static int instance;
  *sandbox = &instance;
  return CAIRN_CODE_OK;
}

void Destroy(void*) {}

int32_t Capabilities(void*, cairn_buffer* platform, uint32_t* flags, cairn_error*) {
#ifdef CAIRN_VARIANT_THROWING_CALLBACK
  (void)platform;
  (void)flags;
  throw std::runtime_error("capabilities exploded");
#else
  platform->data = nullptr;
  platform->size = 0;
  *flags = 0;
  return CAIRN_CODE_OK;
#endif
}

[[maybe_unused]] int32_t Execute(void*, cairn_bytes, const cairn_execute_options*, cairn_buffer*,
                                 cairn_error* error) {
#ifdef CAIRN_VARIANT_THROWING_CALLBACK
  (void)error;
  throw std::runtime_error("execute exploded");
#else
  return Fail(error, CAIRN_CODE_UNIMPLEMENTED, "the variant plugin executes nothing");
#endif
}

const cairn_sandbox_vtable kVtable = {
    sizeof(cairn_sandbox_vtable),
    &Create,
    &Destroy,
    &Capabilities,
#ifdef CAIRN_VARIANT_NULL_CALLBACK
    nullptr,
#else
    &Execute,
#endif
    nullptr,
};

#ifndef CAIRN_VARIANT_NAME
#define CAIRN_VARIANT_NAME "variant"
#endif

const cairn_plugin_descriptor kDescriptor = {
#ifdef CAIRN_VARIANT_OVERSIZED_DESCRIPTOR
    sizeof(cairn_plugin_descriptor) + 64,
#else
    sizeof(cairn_plugin_descriptor),
#endif
#ifdef CAIRN_VARIANT_OTHER_ABI_MAJOR
    CAIRN_ABI_VERSION_MAJOR + 1,
#else
    CAIRN_ABI_VERSION_MAJOR,
#endif
    CAIRN_ABI_VERSION_MINOR,
#ifdef CAIRN_VARIANT_UNKNOWN_KIND
    7,
#else
    CAIRN_PLUGIN_KIND_SANDBOX,
#endif
    CAIRN_VARIANT_NAME,
    "0.1.0",
    "a test plugin",
    &kVtable,
};

}  // namespace

#ifndef CAIRN_VARIANT_NO_ENTRY
extern "C" CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor* cairn_plugin_entry(uint32_t,
                                                                                 uint32_t) {
#ifdef CAIRN_VARIANT_THROWING_ENTRY
  throw std::runtime_error("entry exploded");
#endif
#ifdef CAIRN_VARIANT_CRASH_IN_ENTRY
  Segfault();
#endif
#ifdef CAIRN_VARIANT_HANG_IN_ENTRY
  while (true) pause();
#endif
  return &kDescriptor;
}
#else
// Exports something, just not the entry symbol.
extern "C" CAIRN_PLUGIN_EXPORT int cairn_plugin_entry_misspelt() { return 0; }
#endif
