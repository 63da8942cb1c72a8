/*
 * cairn/plugin.h — the Cairn plugin ABI.
 *
 * Plain C99. This is the only file a third party needs (besides the REAPI
 * .proto files, installed with it) to build a Cairn sandbox or storage plugin.
 *
 * Overview
 * --------
 * A plugin is a shared object that exports one symbol, CAIRN_PLUGIN_ENTRY
 * ("cairn_plugin_entry"), of type cairn_plugin_entry_fn. The host calls it
 * with its own ABI version; the plugin returns a pointer to a static
 * descriptor (cairn_plugin_descriptor) naming the ABI version it was built
 * against, its kind, name, version and function table. The host refuses a
 * plugin whose ABI major version differs from its own, then checks struct
 * sizes and that every required callback is non-NULL.
 *
 * Structured data crosses the boundary as serialized REAPI protobuf messages
 * (build.bazel.remote.execution.v2.Digest, Action, ActionResult, ...), so
 * the ABI stays small and a plugin needs nothing of Cairn's beyond this
 * header and the REAPI protos.
 *
 * Rules that hold for every function in this header
 * --------------------------------------------------
 *  - Nothing throws across the boundary. A C++ plugin catches every
 *    exception in every callback and reports CAIRN_CODE_INTERNAL.
 *  - Errors are a google.rpc.Code number (CAIRN_CODE_*) returned by the
 *    function, with a message in the cairn_error the caller passed.
 *    CAIRN_CODE_OK (0) is success.
 *  - Whoever allocates frees: memory handed to the other side travels in a
 *    cairn_buffer whose producer sets `release`; the receiver calls
 *    cairn_buffer_release() exactly once when done with it.
 *  - Borrowed inputs (cairn_bytes, const char*) are valid only for the
 *    duration of the call.
 *  - Every struct starts with `struct_size` (cairn_bytes, cairn_buffer and
 *    cairn_error aside); structs only grow by appending fields, so a reader
 *    checks struct_size before touching a newer field.
 *
 * Minor versions
 * --------------
 * A minor version only appends: fields at the end of a struct, callbacks at
 * the end of a function table, new #defines. Each addition is marked with
 * the version that added it ("ABI 1.1"). The rules that make a 1.0 plugin
 * work in a 1.1 host, and a 1.1 plugin in a 1.0 host:
 *  - A table a plugin hands over must have exactly the struct_size its
 *    minor defines (a newer minor than the host's: at least the host's
 *    size; the host uses only the part it knows).
 *  - Every callback added in a minor is optional. The caller checks both
 *    struct_size (a table of an older minor does not have the field at all)
 *    and NULL before calling it, and treats a missing one as
 *    CAIRN_CODE_UNIMPLEMENTED or, where documented, as the 1.0 behaviour.
 *  - Structs the caller fills (options, reports, statistics) carry the
 *    caller's struct_size; the callee reads and writes only the fields that
 *    fit in it.
 *  - cairn_error has no struct_size: its ABI 1.1 field `details` is written
 *    only when the side that owns the cairn_error speaks 1.1 or later (the
 *    host's minor is in cairn_host_services.abi_minor and the entry call;
 *    the plugin's is in its descriptor).
 *  - Threads: storage operations and sandbox execute may be called from
 *    several threads at once and must be thread-safe. Host services are
 *    thread-safe.
 *
 * Minimal example (a storage-less sandbox plugin):
 *
 *   static const cairn_sandbox_vtable vtable = {
 *       sizeof(cairn_sandbox_vtable), my_create, my_destroy,
 *       my_capabilities, my_execute, my_run_interactive};
 *   static const cairn_plugin_descriptor descriptor = {
 *       sizeof(cairn_plugin_descriptor), CAIRN_ABI_VERSION_MAJOR,
 *       CAIRN_ABI_VERSION_MINOR, CAIRN_PLUGIN_KIND_SANDBOX, "my-sandbox",
 *       "1.0.0", "Runs actions somewhere", &vtable};
 *   CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor*
 *   cairn_plugin_entry(uint32_t host_major, uint32_t host_minor) {
 *     (void)host_major; (void)host_minor;
 *     return &descriptor;
 *   }
 */
#ifndef CAIRN_PLUGIN_H
#define CAIRN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Versions and the entry point                                           */
/* ---------------------------------------------------------------------- */

/* A major bump breaks compatibility; a minor bump only appends fields,
 * callbacks or enum values. */
#define CAIRN_ABI_VERSION_MAJOR 1
#define CAIRN_ABI_VERSION_MINOR 1

#define CAIRN_PLUGIN_ENTRY_SYMBOL "cairn_plugin_entry"

#if defined(__GNUC__)
#define CAIRN_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define CAIRN_PLUGIN_EXPORT
#endif

/* google.rpc.Code numbering. */
#define CAIRN_CODE_OK 0
#define CAIRN_CODE_CANCELLED 1
#define CAIRN_CODE_UNKNOWN 2
#define CAIRN_CODE_INVALID_ARGUMENT 3
#define CAIRN_CODE_DEADLINE_EXCEEDED 4
#define CAIRN_CODE_NOT_FOUND 5
#define CAIRN_CODE_ALREADY_EXISTS 6
#define CAIRN_CODE_PERMISSION_DENIED 7
#define CAIRN_CODE_RESOURCE_EXHAUSTED 8
#define CAIRN_CODE_FAILED_PRECONDITION 9
#define CAIRN_CODE_ABORTED 10
#define CAIRN_CODE_OUT_OF_RANGE 11
#define CAIRN_CODE_UNIMPLEMENTED 12
#define CAIRN_CODE_INTERNAL 13
#define CAIRN_CODE_UNAVAILABLE 14
#define CAIRN_CODE_DATA_LOSS 15
#define CAIRN_CODE_UNAUTHENTICATED 16

/* ---------------------------------------------------------------------- */
/* Memory and errors                                                      */
/* ---------------------------------------------------------------------- */

/* A borrowed view of bytes, valid for the duration of one call. */
typedef struct cairn_bytes {
  const uint8_t* data;
  uint64_t size;
} cairn_bytes;

/* Bytes handed from one side to the other. The producer fills data, size,
 * release and opaque; the receiver calls cairn_buffer_release() once. A
 * zero-initialised buffer is empty and needs no release. */
typedef struct cairn_buffer {
  uint8_t* data;
  uint64_t size;
  void (*release)(struct cairn_buffer* self);
  void* opaque; /* for the producer's release */
} cairn_buffer;

static inline void cairn_buffer_release(cairn_buffer* buffer) {
  if (buffer != NULL && buffer->release != NULL) buffer->release(buffer);
  if (buffer != NULL) {
    buffer->data = NULL;
    buffer->size = 0;
    buffer->release = NULL;
    buffer->opaque = NULL;
  }
}

/* Filled by the callee when it returns a non-OK code: `code` equals the
 * returned code, `message` (UTF-8, not NUL-terminated) says what went wrong
 * and names the object concerned. The caller zero-initialises it and
 * releases `message` (and `details`) afterwards. */
typedef struct cairn_error {
  int32_t code;
  cairn_buffer message;

  /* --- ABI 1.1 --- */
  /* Optional: a serialized google.rpc.Status with the same code whose
   * `details` hold typed error details, e.g. a google.rpc.PreconditionFailure
   * with one MISSING violation "blobs/{hash}/{size}" per blob that is not in
   * the CAS, or a google.rpc.BadRequest naming the offending field. Its
   * message may be empty (then `message` is the message). Written only when
   * the owner of this struct speaks ABI 1.1 or later (see "Minor
   * versions" above). */
  cairn_buffer details;
} cairn_error;

/* ---------------------------------------------------------------------- */
/* Storage operations (CAS, action cache, references)                      */
/* ---------------------------------------------------------------------- */

/* Flags for stage_tree. */
#define CAIRN_STAGE_HARDLINKS 0x1u /* hardlink objects when possible (read-only use) */

/* Flags for capture_tree. */
#define CAIRN_CAPTURE_STORE_TREE 0x1u /* also store a REAPI Tree message */

/* Flags for write_blob_from_path. */
#define CAIRN_WRITE_MOVE_SOURCE 0x1u /* the store may take the file over (rename) */

/* ABI 1.1: kinds of asset (Remote Asset's blob and directory mappings). */
#define CAIRN_ASSET_BLOB 1
#define CAIRN_ASSET_DIRECTORY 2

/* ABI 1.1: cairn_storage_capabilities.flags. */
#define CAIRN_STORAGE_INSTANCES 0x1u /* action caches and assets kept apart per instance name */
#define CAIRN_STORAGE_UPLOADS 0x2u   /* upload_write / upload_status / upload_abort */
#define CAIRN_STORAGE_ASSETS 0x4u    /* push_asset / fetch_asset / remove_asset */
/* stage/capture touch this machine's files; staged objects can be hardlinked */
#define CAIRN_STORAGE_LOCAL_FILES 0x8u
#define CAIRN_STORAGE_REMOTE 0x10u /* the bytes live on another machine */

/* ABI 1.1: what a store can do. Filled by capabilities(); the caller sets
 * struct_size, every other field is 0 unless the store sets it. */
typedef struct cairn_storage_capabilities {
  uint32_t struct_size;
  uint32_t flags;          /* CAIRN_STORAGE_* above */
  uint64_t max_blob_size;  /* largest blob it accepts; 0 = no limit */
  uint64_t max_batch_size; /* largest total of one batched request worth
                              sending at once; 0 = no limit */
} cairn_storage_capabilities;

/* Statistics of a store; any field unknown to the store is 0. */
typedef struct cairn_storage_stats {
  uint32_t struct_size;
  uint64_t object_count;
  uint64_t total_bytes;
  uint64_t quota_bytes; /* 0 = no quota */
  uint64_t high_watermark_bytes;
  uint64_t low_watermark_bytes;
  uint64_t action_result_count;
  uint64_t reference_count;
} cairn_storage_stats;

/* The operations of one open store. Digests are serialized REAPI Digest
 * messages. Every operation is thread-safe. Optional operations may be
 * NULL; the host then reports CAIRN_CODE_UNIMPLEMENTED to its caller.
 *
 * REAPI instance names: what a store keeps apart per instance name is what
 * names things, the action cache (get/update_action_result_in) and assets
 * (instance_name in the Remote Asset requests). Blobs are addressed by
 * digest alone and shared by every instance of a store, as content
 * addressing allows; a server that must keep the bytes of two instances
 * apart opens one store per instance.
 *
 * The same table is used in two directions: a storage plugin implements it
 * (cairn_storage_vtable.ops), and the host hands the active store to every
 * plugin through cairn_host_services.cas. */
typedef struct cairn_storage_ops {
  uint32_t struct_size;

  /* --- ABI 1.0: blobs --- */

  /* request: serialized FindMissingBlobsRequest. response: serialized
   * FindMissingBlobsResponse listing the digests not present. The empty
   * blob is never missing. */
  int32_t (*find_missing)(void* store, cairn_bytes request, cairn_buffer* response,
                          cairn_error* error);
  /* *present is set to 1 or 0. */
  int32_t (*contains)(void* store, cairn_bytes digest, int32_t* present, cairn_error* error);
  /* Reads up to `limit` bytes (0 = to the end) starting at `offset`.
   * NOT_FOUND if absent, OUT_OF_RANGE if offset > size. */
  int32_t (*read_blob)(void* store, cairn_bytes digest, uint64_t offset, uint64_t limit,
                       cairn_buffer* data, cairn_error* error);
  /* Stores `data`. When expected_digest is non-empty the data must match it
   * (INVALID_ARGUMENT otherwise). *digest receives the serialized Digest. */
  int32_t (*write_blob)(void* store, cairn_bytes data, cairn_bytes expected_digest,
                        cairn_buffer* digest, cairn_error* error);
  /* Streams a blob into an open file descriptor (from its current offset)
   * without holding it in memory. */
  int32_t (*read_blob_to_fd)(void* store, cairn_bytes digest, int32_t fd, cairn_error* error);
  /* Stores everything readable from `fd` (to end of file) as one blob. */
  int32_t (*write_blob_from_fd)(void* store, int32_t fd, cairn_bytes expected_digest,
                                cairn_buffer* digest, cairn_error* error);
  /* Creates the file `path` (which must not exist) with the blob's content;
   * mode 0644, or 0755 when `executable` is non-zero. */
  int32_t (*read_blob_to_path)(void* store, cairn_bytes digest, const char* path,
                               int32_t executable, cairn_error* error);
  /* Stores the regular file at `path`; flags: CAIRN_WRITE_*. */
  int32_t (*write_blob_from_path)(void* store, const char* path, uint32_t flags,
                                  cairn_bytes expected_digest, cairn_buffer* digest,
                                  cairn_error* error);

  /* --- ABI 1.0: trees (REAPI Directory Merkle trees) --- */

  /* Materialises the tree rooted at root_digest (a Directory) into the
   * existing empty directory `path`. flags: CAIRN_STAGE_*. Names that are
   * empty, ".", "..", or contain '/' or NUL are INVALID_ARGUMENT, and
   * nothing is ever written outside `path`. */
  int32_t (*stage_tree)(void* store, cairn_bytes root_digest, const char* path, uint32_t flags,
                        cairn_error* error);
  /* Stores the directory `path` and everything below it as a canonical
   * Merkle tree. *root_digest receives the root Directory's Digest; with
   * CAIRN_CAPTURE_STORE_TREE and tree_digest non-NULL, a REAPI Tree of the
   * same content is stored and *tree_digest receives its Digest. */
  int32_t (*capture_tree)(void* store, const char* path, uint32_t flags, cairn_buffer* root_digest,
                          cairn_buffer* tree_digest, cairn_error* error);

  /* --- ABI 1.0: action cache --- */

  /* result: serialized ActionResult; NOT_FOUND on a miss. */
  int32_t (*get_action_result)(void* store, cairn_bytes action_digest, cairn_buffer* result,
                               cairn_error* error);
  int32_t (*update_action_result)(void* store, cairn_bytes action_digest, cairn_bytes result,
                                  cairn_error* error);

  /* --- ABI 1.0: named references (artifacts, Remote Asset) --- */

  /* name: a UTF-8 key such as "artifacts/project/element/<key>".
   * digest: serialized Digest of what it names; NOT_FOUND when unset. */
  int32_t (*get_reference)(void* store, const char* name, cairn_buffer* digest, cairn_error* error);
  int32_t (*set_reference)(void* store, const char* name, cairn_bytes digest, cairn_error* error);

  /* --- ABI 1.0: maintenance (optional, may be NULL) --- */

  /* Verifies every object; corrupt ones are removed when `repair` is
   * non-zero. *report receives one UTF-8 line per problem found;
   * *problems their count. */
  int32_t (*verify)(void* store, int32_t repair, cairn_buffer* report, uint64_t* problems,
                    cairn_error* error);
  /* Evicts least-recently-used objects not in use until the store holds at
   * most target_bytes (0 = the configured low watermark). */
  int32_t (*collect_garbage)(void* store, uint64_t target_bytes, uint64_t* freed_bytes,
                             cairn_error* error);
  /* stats->struct_size is set by the caller. */
  int32_t (*stats)(void* store, cairn_storage_stats* stats, cairn_error* error);

  /* --- ABI 1.1: what the store can do (optional) --- */

  /* Missing: the caller assumes flags 0 and no limits. */
  int32_t (*capabilities)(void* store, cairn_storage_capabilities* capabilities,
                          cairn_error* error);

  /* --- ABI 1.1: the action cache of one REAPI instance (optional) --- */

  /* As get_action_result / update_action_result, in the action cache of
   * `instance_name` (UTF-8, NUL-terminated; "" is the default instance, the
   * one the 1.0 operations use). Instances never see each other's entries.
   * Missing: the caller uses the 1.0 operations for "" and reports
   * UNIMPLEMENTED for any other instance. */
  int32_t (*get_action_result_in)(void* store, const char* instance_name, cairn_bytes action_digest,
                                  cairn_buffer* result, cairn_error* error);
  int32_t (*update_action_result_in)(void* store, const char* instance_name,
                                     cairn_bytes action_digest, cairn_bytes result,
                                     cairn_error* error);

  /* --- ABI 1.1: resumable writes (ByteStream Write, QueryWriteStatus) --- */

  /* Appends `data` at `offset` to the upload `upload_id` (chosen by the
   * caller, unique per upload, e.g. the UUID of a ByteStream resource name)
   * of the blob `expected_digest`. `offset` must equal the committed size
   * (INVALID_ARGUMENT otherwise). With `finish` non-zero the content is
   * verified against expected_digest and committed (INVALID_ARGUMENT on a
   * mismatch; the upload is then discarded). A blob already present
   * completes at once: OK with *committed_size set to its full size.
   * *committed_size receives the bytes held after the call, *complete
   * non-zero when the blob is now in the store (finished, or found
   * present). */
  int32_t (*upload_write)(void* store, const char* upload_id, cairn_bytes expected_digest,
                          uint64_t offset, cairn_bytes data, int32_t finish,
                          uint64_t* committed_size, int32_t* complete, cairn_error* error);
  /* How far the upload got: *committed_size bytes held, *complete non-zero
   * when the blob is in the store (committed, or present anyway). An
   * unknown upload of a missing blob is OK with 0 and 0. */
  int32_t (*upload_status)(void* store, const char* upload_id, cairn_bytes expected_digest,
                           uint64_t* committed_size, int32_t* complete, cairn_error* error);
  /* Forgets an unfinished upload; an unknown one is OK. */
  int32_t (*upload_abort)(void* store, const char* upload_id, cairn_error* error);

  /* --- ABI 1.1: assets, Remote Asset's qualified names (optional) --- */

  /* kind: CAIRN_ASSET_*. request: a serialized
   * build.bazel.remote.asset.v1.PushBlobRequest (PushDirectoryRequest for
   * directories; the two have one layout). Maps every URI, with exactly the
   * request's qualifiers, in its instance_name, to the content, replacing an
   * earlier mapping of the same URI and qualifiers. The content and every
   * references_blobs / references_directories entry (directories with their
   * whole trees) must be present: FAILED_PRECONDITION otherwise, with a
   * PreconditionFailure listing each missing blob. While the asset exists,
   * garbage collection keeps all of them. */
  int32_t (*push_asset)(void* store, int32_t kind, cairn_bytes request, cairn_error* error);
  /* request: a serialized FetchBlobRequest (FetchDirectoryRequest). The
   * first URI, in order, mapped with exactly the request's qualifiers and
   * not expired (nor older than oldest_content_accepted) whose content is
   * still present. response: the serialized FetchBlobResponse
   * (FetchDirectoryResponse) with status OK, uri, qualifiers, expires_at
   * and the digest. NOT_FOUND when nothing matches. */
  int32_t (*fetch_asset)(void* store, int32_t kind, cairn_bytes request, cairn_buffer* response,
                         cairn_error* error);
  /* request as for fetch_asset: removes the mapping of every URI with
   * exactly those qualifiers; what was not mapped is OK. */
  int32_t (*remove_asset)(void* store, int32_t kind, cairn_bytes request, cairn_error* error);
} cairn_storage_ops;

/* ---------------------------------------------------------------------- */
/* Host services, handed to every plugin                                  */
/* ---------------------------------------------------------------------- */

#define CAIRN_LOG_TRACE 0
#define CAIRN_LOG_DEBUG 1
#define CAIRN_LOG_INFO 2
#define CAIRN_LOG_WARN 3
#define CAIRN_LOG_ERROR 4

/* Append-only. Valid from the plugin's create/open until its destroy/close. */
typedef struct cairn_host_services {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  void* host; /* passed back as the first argument of the callbacks below */

  /* --- ABI 1.0: logging into the host's logger --- */
  void (*log)(void* host, int32_t level, const char* message, uint64_t size);

  /* --- ABI 1.0: cancellation --- */
  /* Non-zero once the user or the host asked to stop (e.g. Ctrl-C). Long
   * operations poll it and return CAIRN_CODE_CANCELLED. */
  int32_t (*is_cancelled)(void* host);

  /* --- ABI 1.0: the active content-addressable store --- */
  const cairn_storage_ops* cas;
  void* cas_store; /* first argument of every cas operation */

  /* --- ABI 1.0: scratch space --- */
  /* An existing directory for the plugin's temporary files, on the same
   * filesystem as the host's local cache (so files staged from a local
   * store can be hardlinked), or NULL when the host has none. Plugins make
   * their own uniquely named entries below it and remove them. */
  const char* scratch_dir;
} cairn_host_services;

/* ---------------------------------------------------------------------- */
/* Sandbox plugins                                                        */
/* ---------------------------------------------------------------------- */

/* Capability flags, beyond the REAPI platform properties. */
#define CAIRN_SANDBOX_INTERACTIVE 0x1u /* run_interactive is supported */
#define CAIRN_SANDBOX_NETWORK 0x2u     /* honours network=on */
#define CAIRN_SANDBOX_UID_GID 0x4u     /* honours unixUID / unixGID */
#define CAIRN_SANDBOX_REMOTE 0x8u      /* executes on another machine */

/* Flags for execute. */
#define CAIRN_EXECUTE_INLINE_STDOUT 0x1u
#define CAIRN_EXECUTE_INLINE_STDERR 0x2u
#define CAIRN_EXECUTE_SKIP_CACHE_LOOKUP 0x4u /* for sandboxes with a cache */

/* ABI 1.1: the stage an execution has reached (cairn_execute_progress). */
#define CAIRN_EXECUTE_STAGE_CACHE_CHECK 1 /* looking for a cached result */
#define CAIRN_EXECUTE_STAGE_UPLOADING 2   /* sending inputs where they must be */
#define CAIRN_EXECUTE_STAGE_QUEUED 3      /* waiting for a worker or a slot */
#define CAIRN_EXECUTE_STAGE_EXECUTING 4   /* the command runs */
#define CAIRN_EXECUTE_STAGE_FETCHING 5    /* bringing outputs into the host's CAS */
#define CAIRN_EXECUTE_STAGE_COMPLETED 6

/* ABI 1.1: one progress report, borrowed for the duration of the callback. */
typedef struct cairn_execute_progress {
  uint32_t struct_size;
  int32_t stage;              /* CAIRN_EXECUTE_STAGE_* */
  const char* operation_name; /* e.g. a REAPI Operation name; may be NULL */
  const char* message;        /* free text for a log line; may be NULL */
} cairn_execute_progress;

/* ABI 1.1: what the sandbox tells the caller besides the ActionResult.
 * The caller zero-initialises it, sets struct_size, and releases
 * operation_name and message afterwards. */
typedef struct cairn_execute_report {
  uint32_t struct_size;
  int32_t cached_result;       /* non-zero: served from a cache, nothing ran */
  cairn_buffer operation_name; /* the last operation name, when there was one */
  cairn_buffer message;        /* e.g. ExecuteResponse.message; may be empty */
} cairn_execute_report;

typedef struct cairn_execute_options {
  uint32_t struct_size;
  uint32_t flags; /* CAIRN_EXECUTE_* */
  /* When >= 0, the sandbox also copies the action's stdout and stderr to
   * this descriptor as they are produced (live build logs). */
  int32_t live_output_fd;

  /* --- ABI 1.1 --- */
  /* Passed back as the first argument of the callbacks below. */
  void* context;
  /* Optional: non-zero once this one execution should stop. The sandbox
   * polls it as it polls cairn_host_services.is_cancelled (either one
   * cancels) and returns CAIRN_CODE_CANCELLED. */
  int32_t (*is_cancelled)(void* context);
  /* Optional: called from the thread running execute whenever the stage
   * changes or there is something worth a log line. */
  void (*progress)(void* context, const cairn_execute_progress* progress);
  /* Optional: filled by the sandbox before execute returns, whatever the
   * outcome. */
  cairn_execute_report* report;
} cairn_execute_options;

typedef struct cairn_interactive_options {
  uint32_t struct_size;
  /* The caller's terminal (or pipes). */
  int32_t stdin_fd;
  int32_t stdout_fd;
  int32_t stderr_fd;
} cairn_interactive_options;

typedef struct cairn_sandbox_vtable {
  uint32_t struct_size;

  /* --- ABI 1.0 --- */

  /* options: the `options` mapping of the project's sandbox configuration,
   * as YAML text (possibly empty). An unknown or malformed option is
   * INVALID_ARGUMENT naming the option. `host` stays valid until destroy. */
  int32_t (*create)(const cairn_host_services* host, const char* options, uint64_t options_size,
                    void** sandbox, cairn_error* error);
  void (*destroy)(void* sandbox);

  /* platform: serialized REAPI Platform of the properties this sandbox
   * honours (OSFamily, ISA, ...); *flags: CAIRN_SANDBOX_*. */
  int32_t (*capabilities)(void* sandbox, cairn_buffer* platform, uint32_t* flags,
                          cairn_error* error);

  /* action: serialized REAPI Action; its Command and input root are in the
   * host's CAS (host->cas). On CAIRN_CODE_OK, *result holds a serialized
   * ActionResult whose outputs, stdout and stderr are in the host's CAS; a
   * non-zero exit code is still OK. On CAIRN_CODE_DEADLINE_EXCEEDED (the
   * Action's timeout expired) or CAIRN_CODE_CANCELLED, *result may hold a
   * partial ActionResult. Every process the action started is gone when
   * execute returns. A platform property the sandbox cannot honour is
   * INVALID_ARGUMENT naming the property. */
  int32_t (*execute)(void* sandbox, cairn_bytes action, const cairn_execute_options* options,
                     cairn_buffer* result, cairn_error* error);

  /* Optional (NULL unless CAIRN_SANDBOX_INTERACTIVE): runs the action's
   * command attached to the given descriptors, on a writable root whose
   * changes are thrown away. *exit_code receives the command's status. */
  int32_t (*run_interactive)(void* sandbox, cairn_bytes action,
                             const cairn_interactive_options* options, int32_t* exit_code,
                             cairn_error* error);
} cairn_sandbox_vtable;

/* ---------------------------------------------------------------------- */
/* Storage plugins                                                        */
/* ---------------------------------------------------------------------- */

typedef struct cairn_storage_vtable {
  uint32_t struct_size;

  /* --- ABI 1.0 --- */

  /* options: the `options` mapping of the storage configuration as YAML
   * text. The host's cas services are not available to a storage plugin
   * (host->cas is NULL): it is the store. */
  int32_t (*open)(const cairn_host_services* host, const char* options, uint64_t options_size,
                  void** store, cairn_error* error);
  void (*close)(void* store);
  /* The operations on an open store. */
  const cairn_storage_ops* ops;
} cairn_storage_vtable;

/* ---------------------------------------------------------------------- */
/* The descriptor                                                         */
/* ---------------------------------------------------------------------- */

#define CAIRN_PLUGIN_KIND_SANDBOX 1
#define CAIRN_PLUGIN_KIND_STORAGE 2

typedef struct cairn_plugin_descriptor {
  uint32_t struct_size;
  uint32_t abi_major; /* CAIRN_ABI_VERSION_MAJOR the plugin was built with */
  uint32_t abi_minor;
  int32_t kind;            /* CAIRN_PLUGIN_KIND_* */
  const char* name;        /* unique per kind, e.g. "bwrap" */
  const char* version;     /* the plugin's own version, e.g. "1.2.0" */
  const char* description; /* one line for `cairn plugins` */
  /* cairn_sandbox_vtable* or cairn_storage_vtable*, according to kind. */
  const void* vtable;
} cairn_plugin_descriptor;

/* The one exported symbol. The host passes its ABI version so a plugin can
 * refuse (return NULL) or avoid newer services; the returned descriptor is
 * static and lives as long as the library. */
typedef const cairn_plugin_descriptor* (*cairn_plugin_entry_fn)(uint32_t host_abi_major,
                                                                uint32_t host_abi_minor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CAIRN_PLUGIN_H */
