#include "cairn/relative_path.h"

namespace cairn {

Status ValidateRelativePath(std::string_view path, std::string_view what, bool allow_empty) {
  auto invalid = [&](const std::string& why) {
    return InvalidArgument(std::string(what) + " '" + std::string(path) + "' " + why);
  };
  if (path.empty()) {
    return allow_empty ? Status::Ok() : invalid("is empty");
  }
  if (path.front() == '/') return invalid("must be relative (it starts with '/')");
  if (path.back() == '/') return invalid("must not end with '/'");
  if (path.find('\0') != std::string_view::npos) return invalid("contains a NUL byte");
  for (const std::string& component : SplitPath(path)) {
    if (component.empty()) return invalid("has an empty component ('//')");
    if (component == ".") return invalid("must be normalized (it has a '.' component)");
    if (component == "..") return invalid("must not leave its directory (it has a '..' component)");
  }
  return Status::Ok();
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> components;
  if (path.empty()) return components;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      components.emplace_back(path.substr(start));
      return components;
    }
    components.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

std::string JoinPath(std::string_view base, std::string_view relative) {
  if (relative.empty()) return std::string(base);
  if (base.empty()) return std::string(relative);
  std::string joined(base);
  if (joined.back() != '/') joined += '/';
  joined.append(relative.front() == '/' ? relative.substr(1) : relative);
  return joined;
}

std::string ParentPath(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

}  // namespace cairn
