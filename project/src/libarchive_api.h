// libarchive_api.h (private to cairn::project) — libarchive, opened when a
// tar archive is first read or written.
//
// Linked into `cairn`, libarchive and what it pulls in (libxml2, ICU,
// nettle, the compression libraries: eleven libraries) cost every process
// about 2 ms of dynamic linking, for the few commands that touch a tar
// source or write a tar checkout. So archive.cc calls it through this
// table, filled from libarchive.so.13 (the soname of every libarchive 3,
// Debian's libarchive13) by dlsym on first use. The header's declarations
// give each entry its exact type.
#ifndef CAIRN_PROJECT_SRC_LIBARCHIVE_API_H
#define CAIRN_PROJECT_SRC_LIBARCHIVE_API_H

#include <archive.h>
#include <archive_entry.h>

#include "cairn/status.h"

static_assert(ARCHIVE_VERSION_NUMBER >= 3000000 && ARCHIVE_VERSION_NUMBER < 4000000,
              "libarchive 3 (soname libarchive.so.13) expected");

namespace cairn::project {

inline constexpr char kLibArchiveSoname[] = "libarchive.so.13";

// Every libarchive function archive.cc calls.
#define CAIRN_LIBARCHIVE_FUNCTIONS(X)      \
  X(archive_entry_filetype)                \
  X(archive_entry_free)                    \
  X(archive_entry_hardlink)                \
  X(archive_entry_hardlink_utf8)           \
  X(archive_entry_new)                     \
  X(archive_entry_pathname)                \
  X(archive_entry_pathname_utf8)           \
  X(archive_entry_perm)                    \
  X(archive_entry_set_filetype)            \
  X(archive_entry_set_gid)                 \
  X(archive_entry_set_hardlink_utf8)       \
  X(archive_entry_set_mtime)               \
  X(archive_entry_set_pathname_utf8)       \
  X(archive_entry_set_perm)                \
  X(archive_entry_set_size)                \
  X(archive_entry_set_symlink_utf8)        \
  X(archive_entry_set_uid)                 \
  X(archive_entry_size)                    \
  X(archive_entry_size_is_set)             \
  X(archive_entry_symlink)                 \
  X(archive_entry_symlink_utf8)            \
  X(archive_error_string)                  \
  X(archive_read_data)                     \
  X(archive_read_free)                     \
  X(archive_read_new)                      \
  X(archive_read_next_header)              \
  X(archive_read_open_filename)            \
  X(archive_read_support_filter_all)       \
  X(archive_read_support_format_gnutar)    \
  X(archive_read_support_format_tar)       \
  X(archive_write_close)                   \
  X(archive_write_data)                    \
  X(archive_write_free)                    \
  X(archive_write_header)                  \
  X(archive_write_new)                     \
  X(archive_write_open_fd)                 \
  X(archive_write_set_bytes_in_last_block) \
  X(archive_write_set_bytes_per_block)     \
  X(archive_write_set_format_pax_restricted)

struct LibArchive {
#define CAIRN_LIBARCHIVE_ENTRY(name) decltype(&::name) name = nullptr;
  CAIRN_LIBARCHIVE_FUNCTIONS(CAIRN_LIBARCHIVE_ENTRY)
#undef CAIRN_LIBARCHIVE_ENTRY
};

// The table, loaded once per process (thread-safe) and kept; a library
// that cannot be opened, or lacks a function, is FAILED_PRECONDITION
// naming it and the loader's reason.
StatusOr<const LibArchive*> LoadLibArchive();

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_SRC_LIBARCHIVE_API_H
