// cairn/host/arg_parser.h — parsing a subcommand's arguments.
//
// Declare the options, then Parse(); flags take `--name value`,
// `--name=value` or, for switches, just `--name`. A bare `--` ends the
// options (everything after it is positional, e.g. `cairn run -- sh -c ...`).
// Unknown options and missing values are errors naming the option.
//
//   ArgParser parser("cas stage");
//   bool hardlinks = false;
//   parser.AddSwitch("hardlinks", &hardlinks, "hardlink files from the store");
//   std::vector<std::string> positional;
//   Status status = parser.Parse(args, &positional);
#ifndef CAIRN_HOST_ARG_PARSER_H
#define CAIRN_HOST_ARG_PARSER_H

#include <functional>
#include <string>
#include <vector>

#include "cairn/status.h"

namespace cairn {

class ArgParser {
 public:
  explicit ArgParser(std::string command) : command_(std::move(command)) {}

  // `short_name` may be 0. Values are written when the option is seen.
  void AddSwitch(const std::string& name, bool* value, const std::string& help,
                 char short_name = 0);
  void AddString(const std::string& name, std::string* value, const std::string& help,
                 char short_name = 0);
  // Repeatable: each occurrence appends.
  void AddList(const std::string& name, std::vector<std::string>* values, const std::string& help,
               char short_name = 0);
  // For typed or validated values: `handler` gets the raw text.
  void AddCustom(const std::string& name, std::function<Status(const std::string&)> handler,
                 const std::string& help, char short_name = 0);

  // INVALID_ARGUMENT naming the offending option. `--help`/`-h` sets
  // help_requested() instead of failing. Options may appear anywhere
  // before `--` unless stop_at_first_positional is set (then the first
  // positional and everything after it are positional).
  Status Parse(const std::vector<std::string>& args, std::vector<std::string>* positional,
               bool stop_at_first_positional = false);
  bool help_requested() const { return help_requested_; }

  // "  --name VALUE   help" lines for --help texts.
  std::string OptionsHelp() const;

 private:
  struct Option {
    std::string name;
    char short_name;
    bool takes_value;
    std::function<Status(const std::string&)> handler;
    std::string help;
  };
  const Option* Find(const std::string& name) const;
  const Option* FindShort(char name) const;

  std::string command_;
  std::vector<Option> options_;
  bool help_requested_ = false;
};

}  // namespace cairn

#endif  // CAIRN_HOST_ARG_PARSER_H
