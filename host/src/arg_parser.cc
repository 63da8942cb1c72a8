#include "cairn/host/arg_parser.h"

#include <sstream>

namespace cairn {

void ArgParser::AddSwitch(const std::string& name, bool* value, const std::string& help,
                          char short_name) {
  options_.push_back({name, short_name, false,
                      [value](const std::string&) {
                        *value = true;
                        return Status::Ok();
                      },
                      help});
}

void ArgParser::AddString(const std::string& name, std::string* value, const std::string& help,
                          char short_name) {
  options_.push_back({name, short_name, true,
                      [value](const std::string& text) {
                        *value = text;
                        return Status::Ok();
                      },
                      help});
}

void ArgParser::AddList(const std::string& name, std::vector<std::string>* values,
                        const std::string& help, char short_name) {
  options_.push_back({name, short_name, true,
                      [values](const std::string& text) {
                        values->push_back(text);
                        return Status::Ok();
                      },
                      help});
}

void ArgParser::AddCustom(const std::string& name,
                          std::function<Status(const std::string&)> handler,
                          const std::string& help, char short_name) {
  options_.push_back({name, short_name, true, std::move(handler), help});
}

const ArgParser::Option* ArgParser::Find(const std::string& name) const {
  for (const Option& option : options_) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

const ArgParser::Option* ArgParser::FindShort(char name) const {
  for (const Option& option : options_) {
    if (option.short_name != 0 && option.short_name == name) return &option;
  }
  return nullptr;
}

Status ArgParser::Parse(const std::vector<std::string>& args, std::vector<std::string>* positional,
                        bool stop_at_first_positional) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional->insert(positional->end(), args.begin() + static_cast<long>(i) + 1, args.end());
      return Status::Ok();
    }
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    const Option* option = nullptr;
    std::string inline_value;
    bool has_inline_value = false;
    std::string shown = arg;
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      std::string name = arg.substr(2);
      size_t equals = name.find('=');
      if (equals != std::string::npos) {
        inline_value = name.substr(equals + 1);
        has_inline_value = true;
        name = name.substr(0, equals);
        shown = "--" + name;
      }
      option = Find(name);
      if (option == nullptr) {
        return InvalidArgument(command_ + ": unknown option '" + shown + "'");
      }
    } else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      option = FindShort(arg[1]);
      if (option == nullptr) return InvalidArgument(command_ + ": unknown option '" + arg + "'");
    } else {
      if (stop_at_first_positional) {
        positional->insert(positional->end(), args.begin() + static_cast<long>(i), args.end());
        return Status::Ok();
      }
      positional->push_back(arg);
      continue;
    }
    if (!option->takes_value) {
      if (has_inline_value) {
        return InvalidArgument(command_ + ": option '" + shown + "' takes no value");
      }
      CAIRN_RETURN_IF_ERROR(option->handler(""));
      continue;
    }
    if (!has_inline_value) {
      if (i + 1 >= args.size()) {
        return InvalidArgument(command_ + ": option '" + shown + "' needs a value");
      }
      inline_value = args[++i];
    }
    Status status = option->handler(inline_value);
    if (!status.ok()) {
      return InvalidArgument(command_ + ": option '" + shown + "': " + status.message());
    }
  }
  return Status::Ok();
}

std::string ArgParser::OptionsHelp() const {
  std::ostringstream text;
  for (const Option& option : options_) {
    std::string left = "  ";
    left += option.short_name ? std::string("-") + option.short_name + ", " : "    ";
    left += "--" + option.name + (option.takes_value ? " VALUE" : "");
    if (left.size() < 30)
      left.resize(30, ' ');
    else
      left += "  ";
    text << left << option.help << "\n";
  }
  return text.str();
}

}  // namespace cairn
