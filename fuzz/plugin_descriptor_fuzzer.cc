// The registry's descriptor checks (cairn/runtime/plugin_descriptor_check.h)
// against descriptors and function tables built from arbitrary bytes: any
// struct_size, ABI version, kind, missing strings and NULL callbacks. Each
// struct is allocated with exactly the size it declares (up to a cap), so
// AddressSanitizer catches a check that reads a field the plugin did not
// declare.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cairn/runtime/plugin_descriptor_check.h"

namespace {

constexpr size_t kMaxStructSize = 4096;

void Require(bool condition) {
  if (!condition) std::abort();
}

void NeverCalled() { std::abort(); }

// Keeps every buffer alive until the check is done.
struct Arena {
  std::vector<std::unique_ptr<unsigned char[]>> blocks;
  std::deque<std::string> strings;  // a deque never moves what it holds

  // A heap block of the size `declared` says (at least the struct_size
  // field, at most kMaxStructSize) holding the start of `full`.
  template <typename T>
  const T* Place(const T& full, uint32_t declared) {
    size_t size = std::max<size_t>(sizeof(uint32_t), std::min<size_t>(declared, kMaxStructSize));
    blocks.emplace_back(new unsigned char[size]);
    unsigned char* block = blocks.back().get();
    std::memset(block, 0xA5, size);
    std::memcpy(block, &full, std::min(size, sizeof(T)));
    std::memcpy(block, &declared, sizeof(declared));
    return reinterpret_cast<const T*>(block);
  }

  const char* String(FuzzedDataProvider& in) {
    if (in.ConsumeBool()) return nullptr;
    strings.push_back(in.ConsumeRandomLengthString(64));
    return strings.back().c_str();
  }
};

uint32_t StructSize(FuzzedDataProvider& in, size_t real) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      return static_cast<uint32_t>(real);
    case 1:
      return in.ConsumeIntegralInRange<uint32_t>(0, static_cast<uint32_t>(real + 32));
    case 2:
      return static_cast<uint32_t>(real - in.ConsumeIntegralInRange<size_t>(0, sizeof(void*) * 2));
    default:
      return in.ConsumeIntegral<uint32_t>();
  }
}

// Sets each function pointer of `table` after its struct_size field to a
// function or NULL, as the input says.
template <typename T>
void FillCallbacks(FuzzedDataProvider& in, T* table, size_t first_offset) {
  for (size_t at = first_offset; at + sizeof(void*) <= sizeof(T); at += sizeof(void*)) {
    void (*callback)() = in.ConsumeBool() ? &NeverCalled : nullptr;
    std::memcpy(reinterpret_cast<unsigned char*>(table) + at, &callback, sizeof(callback));
  }
}

const void* SandboxTable(FuzzedDataProvider& in, Arena& arena) {
  cairn_sandbox_vtable full{};
  FillCallbacks(in, &full, offsetof(cairn_sandbox_vtable, create));
  return arena.Place(full, StructSize(in, sizeof(full)));
}

const void* StorageTable(FuzzedDataProvider& in, Arena& arena) {
  cairn_storage_ops ops{};
  FillCallbacks(in, &ops, offsetof(cairn_storage_ops, find_missing));
  cairn_storage_vtable full{};
  FillCallbacks(in, &full, offsetof(cairn_storage_vtable, open));
  full.ops = in.ConsumeBool() ? arena.Place(ops, StructSize(in, sizeof(ops))) : nullptr;
  return arena.Place(full, StructSize(in, sizeof(full)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Arena arena;
  cairn_plugin_descriptor full{};
  full.abi_major = in.ConsumeBool() ? CAIRN_ABI_VERSION_MAJOR : in.ConsumeIntegral<uint32_t>();
  full.abi_minor =
      in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 3) : in.ConsumeIntegral<uint32_t>();
  full.kind = in.ConsumeIntegralInRange<int32_t>(-1, 3);
  full.name = arena.String(in);
  full.version = arena.String(in);
  full.description = arena.String(in);
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      full.vtable = SandboxTable(in, arena);
      break;
    case 1:
      full.vtable = StorageTable(in, arena);
      break;
    default:
      full.vtable = nullptr;
  }
  const cairn_plugin_descriptor* descriptor =
      arena.Place(full, StructSize(in, sizeof(cairn_plugin_descriptor)));

  cairn::PluginRecord record;
  std::string problem = cairn::CheckPluginDescriptor(descriptor, &record);
  if (problem.empty()) {
    Require(record.kind != cairn::PluginKind::kUnknown);
    Require(!record.name.empty());
    Require(record.abi_major == CAIRN_ABI_VERSION_MAJOR);
  }
  return 0;
}
