// cairn/quote.h — printing names that may be hostile.
//
// File names, symlink targets and paths come from users and from the
// commands Cairn runs: they may hold newlines, terminal escapes or bytes
// that are not UTF-8. Anything that prints one (CLI output, error
// messages) passes it through QuoteName, so one name always reads as one
// token on one line and a script reading the output cannot be fooled by a
// name that looks like another entry.
//
//   out << "output-file: " << QuoteName(path) << " " << digest << "\n";
//
// All functions are pure and thread-safe.
#ifndef CAIRN_QUOTE_H
#define CAIRN_QUOTE_H

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn {

// `text` between double quotes, escaped C-style: \" \\ \a \b \t \n \v \f
// \r, every other control byte, DEL and every byte that is not part of a
// valid UTF-8 sequence as three-digit octal (\033, \377). Valid UTF-8
// beyond ASCII is kept as it is. The quoting git uses for unusual paths.
std::string QuoteC(std::string_view text);

// `text` unchanged when it is non-empty and has nothing QuoteC would
// escape, no space, no '"' and no '\'; else QuoteC(text). A printed name
// that starts with '"' is therefore always a quoted one.
std::string QuoteName(std::string_view text);

// A message for a terminal or a log: `text` unchanged but for control
// bytes other than newline and tab, DEL and bytes that are not valid UTF-8,
// which become three-digit octal escapes (\033, \377). For error messages
// that may embed text from a plugin or a command; names inside them should
// already have gone through QuoteName.
std::string EscapeMessage(std::string_view text);

// The length of the valid UTF-8 sequence starting at text[i] (1 to 4;
// 1 for ASCII), or 0 when the bytes there are not valid UTF-8 (overlong
// forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(std::string_view text, size_t i);

}  // namespace cairn

#endif  // CAIRN_QUOTE_H
