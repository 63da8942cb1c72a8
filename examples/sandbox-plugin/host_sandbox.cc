// example-host: a sandbox plugin written against cairn/plugin.h alone.
//
// THIS IS AN EXAMPLE, NOT A SANDBOX. It runs the Action's command directly
// on the host, with no isolation at all: the command sees the whole
// filesystem, the network and the host's users. It exists to show a third
// party how the ABI fits together:
//   - one exported entry symbol returning a static descriptor;
//   - the host's CAS reached only through cairn_host_services.cas;
//   - structured data as serialized REAPI messages;
//   - every error as a google.rpc code plus a message in a buffer that this
//     side allocates and releases;
//   - no exception ever leaves a callback.
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/plugin.h"

namespace reapi = build::bazel::remote::execution::v2;

namespace {

struct Sandbox {
  const cairn_host_services* host;
};

// --- memory crossing the boundary: allocated here, released here ---------

void ReleaseString(cairn_buffer* buffer) { delete static_cast<std::string*>(buffer->opaque); }

void Fill(cairn_buffer* buffer, std::string data) {
  auto* owned = new std::string(std::move(data));
  buffer->data = reinterpret_cast<uint8_t*>(owned->data());
  buffer->size = owned->size();
  buffer->opaque = owned;
  buffer->release = &ReleaseString;
}

struct Failure {
  int32_t code;
  std::string message;
};

int32_t Report(cairn_error* error, const Failure& failure) {
  if (error != nullptr) {
    error->code = failure.code;
    Fill(&error->message, failure.message);
  }
  return failure.code;
}

cairn_bytes Bytes(const std::string& data) {
  return cairn_bytes{reinterpret_cast<const uint8_t*>(data.data()), data.size()};
}

// --- the host's CAS ---------------------------------------------------------

// Calls a CAS operation; throws Failure with the host's message on error.
template <typename Call>
void Cas(const char* what, Call call) {
  cairn_error error{};
  int32_t code = call(&error);
  if (code == CAIRN_CODE_OK) return;
  std::string message(reinterpret_cast<const char*>(error.message.data), error.message.size);
  cairn_buffer_release(&error.message);
  throw Failure{code, std::string(what) + ": " + message};
}

std::string TakeString(cairn_buffer* buffer) {
  std::string data(reinterpret_cast<const char*>(buffer->data), buffer->size);
  cairn_buffer_release(buffer);
  return data;
}

reapi::Digest StoreFile(const cairn_host_services* host, const std::string& path) {
  cairn_buffer digest{};
  Cas("storing output", [&](cairn_error* error) {
    return host->cas->write_blob_from_path(host->cas_store, path.c_str(), 0,
                                           cairn_bytes{nullptr, 0}, &digest, error);
  });
  reapi::Digest parsed;
  parsed.ParseFromString(TakeString(&digest));
  return parsed;
}

// --- the command ---------------------------------------------------------

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }

std::string FindInPath(const std::string& program, const reapi::Command& command) {
  if (program.find('/') != std::string::npos) return program;
  std::string path = "/usr/bin:/bin";
  for (const auto& variable : command.environment_variables()) {
    if (variable.name() == "PATH") path = variable.value();
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

int RunCommand(const Sandbox& sandbox, const reapi::Command& command, const std::string& cwd,
               const std::string& out_path, const std::string& err_path, double timeout_seconds,
               bool* timed_out) {
  std::vector<std::string> env;
  for (const auto& variable : command.environment_variables()) {
    env.push_back(variable.name() + "=" + variable.value());
  }
  std::string program = FindInPath(command.arguments(0), command);
  pid_t pid = ::fork();
  if (pid < 0) throw Failure{CAIRN_CODE_INTERNAL, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    ::setpgid(0, 0);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (::chdir(cwd.c_str()) != 0) _exit(127);
    std::vector<char*> argv;
    for (const std::string& arg : command.arguments())
      argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& entry : env) envp.push_back(entry.data());
    envp.push_back(nullptr);
    ::execve(program.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  ::setpgid(pid, pid);
  struct timespec start;
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      ::kill(-pid, SIGKILL);  // whatever it left behind
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    struct timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = double(now.tv_sec - start.tv_sec) + double(now.tv_nsec - start.tv_nsec) / 1e9;
    bool cancelled = sandbox.host->is_cancelled(sandbox.host->host) != 0;
    if (cancelled || (timeout_seconds > 0 && elapsed > timeout_seconds)) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      if (cancelled) throw Failure{CAIRN_CODE_CANCELLED, "the action was cancelled"};
      *timed_out = true;
      return -1;
    }
    ::usleep(5000);
  }
}

void CaptureOutput(const Sandbox& sandbox, const std::string& cwd, const std::string& relative,
                   reapi::ActionResult* result) {
  std::string path = cwd + "/" + relative;
  struct stat info;
  if (::lstat(path.c_str(), &info) != 0) return;  // a missing output is simply absent
  const cairn_host_services* host = sandbox.host;
  if (S_ISLNK(info.st_mode)) {
    std::vector<char> target(4096);
    ssize_t size = ::readlink(path.c_str(), target.data(), target.size());
    auto* link = result->add_output_symlinks();
    link->set_path(relative);
    link->set_target(std::string(target.data(), size > 0 ? size_t(size) : 0));
  } else if (S_ISREG(info.st_mode)) {
    auto* file = result->add_output_files();
    file->set_path(relative);
    *file->mutable_digest() = StoreFile(host, path);
    file->set_is_executable((info.st_mode & S_IXUSR) != 0);
  } else if (S_ISDIR(info.st_mode)) {
    cairn_buffer root{};
    cairn_buffer tree{};
    Cas("capturing output directory", [&](cairn_error* error) {
      return host->cas->capture_tree(host->cas_store, path.c_str(), CAIRN_CAPTURE_STORE_TREE, &root,
                                     &tree, error);
    });
    auto* directory = result->add_output_directories();
    directory->set_path(relative);
    directory->mutable_root_directory_digest()->ParseFromString(TakeString(&root));
    directory->mutable_tree_digest()->ParseFromString(TakeString(&tree));
  }
}

reapi::ActionResult Execute(const Sandbox& sandbox, const reapi::Action& action, bool* timed_out) {
  const cairn_host_services* host = sandbox.host;
  cairn_buffer command_bytes{};
  std::string command_digest = action.command_digest().SerializeAsString();
  Cas("reading the Command", [&](cairn_error* error) {
    return host->cas->read_blob(host->cas_store, Bytes(command_digest), 0, 0, &command_bytes,
                                error);
  });
  reapi::Command command;
  if (!command.ParseFromString(TakeString(&command_bytes)) || command.arguments_size() == 0) {
    throw Failure{CAIRN_CODE_INVALID_ARGUMENT, "the Command is malformed or has no arguments"};
  }

  char scratch_template[] = "/tmp/cairn-example-XXXXXX";
  if (::mkdtemp(scratch_template) == nullptr) {
    throw Failure{CAIRN_CODE_INTERNAL, std::string("mkdtemp: ") + std::strerror(errno)};
  }
  std::string scratch = scratch_template;
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::nftw(path.c_str(), &RemoveEntry, 16, FTW_DEPTH | FTW_PHYS); }
  } cleanup{scratch};

  std::string root = scratch + "/root";
  ::mkdir(root.c_str(), 0755);
  std::string root_digest = action.input_root_digest().SerializeAsString();
  Cas("staging the input root", [&](cairn_error* error) {
    return host->cas->stage_tree(host->cas_store, Bytes(root_digest), root.c_str(), 0, error);
  });
  std::string cwd =
      command.working_directory().empty() ? root : root + "/" + command.working_directory();
  for (const std::string& output : command.output_paths()) {
    std::string parent = cwd + "/" + output;
    for (size_t slash = parent.find('/', cwd.size() + 1); slash != std::string::npos;
         slash = parent.find('/', slash + 1)) {
      ::mkdir(parent.substr(0, slash).c_str(), 0755);
    }
  }

  double timeout = double(action.timeout().seconds()) + action.timeout().nanos() / 1e9;
  std::string out_path = scratch + "/stdout";
  std::string err_path = scratch + "/stderr";
  reapi::ActionResult result;
  result.set_exit_code(RunCommand(sandbox, command, cwd, out_path, err_path, timeout, timed_out));
  *result.mutable_stdout_digest() = StoreFile(host, out_path);
  *result.mutable_stderr_digest() = StoreFile(host, err_path);
  for (const std::string& output : command.output_paths())
    CaptureOutput(sandbox, cwd, output, &result);
  result.mutable_execution_metadata()->set_worker("example-host (no isolation)");
  return result;
}

// --- the C callbacks -----------------------------------------------------

int32_t Create(const cairn_host_services* host, const char* options, uint64_t options_size,
               void** out, cairn_error* error) {
  std::string text(options != nullptr ? options : "", options != nullptr ? options_size : 0);
  if (text.find_first_not_of(" \n{}") != std::string::npos) {
    return Report(error, {CAIRN_CODE_INVALID_ARGUMENT, "example-host takes no options"});
  }
  if (host == nullptr || host->cas == nullptr) {
    return Report(error, {CAIRN_CODE_FAILED_PRECONDITION, "example-host needs the host's CAS"});
  }
  try {
    *out = new Sandbox{host};
    return CAIRN_CODE_OK;
  } catch (const std::exception& e) {
    return Report(error, {CAIRN_CODE_RESOURCE_EXHAUSTED, e.what()});
  }
}

void Destroy(void* sandbox) { delete static_cast<Sandbox*>(sandbox); }

int32_t Capabilities(void*, cairn_buffer* platform, uint32_t* flags, cairn_error* error) {
  try {
    reapi::Platform properties;
    auto* os = properties.add_properties();
    os->set_name("OSFamily");
    os->set_value("linux");
    Fill(platform, properties.SerializeAsString());
    *flags = 0;
    return CAIRN_CODE_OK;
  } catch (const std::exception& e) {
    return Report(error, {CAIRN_CODE_INTERNAL, e.what()});
  }
}

int32_t ExecuteCallback(void* instance, cairn_bytes action_bytes, const cairn_execute_options*,
                        cairn_buffer* result, cairn_error* error) {
  try {
    reapi::Action action;
    if (!action.ParseFromArray(action_bytes.data, static_cast<int>(action_bytes.size))) {
      return Report(error,
                    {CAIRN_CODE_INVALID_ARGUMENT, "the action is not a serialized REAPI Action"});
    }
    bool timed_out = false;
    reapi::ActionResult outcome = Execute(*static_cast<Sandbox*>(instance), action, &timed_out);
    Fill(result, outcome.SerializeAsString());
    if (timed_out) return Report(error, {CAIRN_CODE_DEADLINE_EXCEEDED, "the action timed out"});
    return CAIRN_CODE_OK;
  } catch (const Failure& failure) {
    return Report(error, failure);
  } catch (const std::exception& e) {
    return Report(error, {CAIRN_CODE_INTERNAL, e.what()});
  } catch (...) {
    return Report(error, {CAIRN_CODE_INTERNAL, "unknown exception"});
  }
}

const cairn_sandbox_vtable kVtable = {
    sizeof(cairn_sandbox_vtable), &Create, &Destroy, &Capabilities, &ExecuteCallback, nullptr,
};

const cairn_plugin_descriptor kDescriptor = {
    sizeof(cairn_plugin_descriptor),
    CAIRN_ABI_VERSION_MAJOR,
    CAIRN_ABI_VERSION_MINOR,
    CAIRN_PLUGIN_KIND_SANDBOX,
    "example-host",
    "1.0.0",
    "EXAMPLE ONLY: runs actions on the host with no isolation",
    &kVtable,
};

}  // namespace

extern "C" CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor* cairn_plugin_entry(
    uint32_t host_major, uint32_t) {
  return host_major == CAIRN_ABI_VERSION_MAJOR ? &kDescriptor : nullptr;
}
