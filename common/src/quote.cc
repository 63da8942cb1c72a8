#include "cairn/quote.h"

namespace cairn {
namespace {

void AppendOctal(unsigned char byte, std::string* out) {
  out->push_back('\\');
  out->push_back(static_cast<char>('0' + (byte >> 6)));
  out->push_back(static_cast<char>('0' + ((byte >> 3) & 7)));
  out->push_back(static_cast<char>('0' + (byte & 7)));
}

// The short escape of a byte, or 0 when it has none.
char ShortEscape(unsigned char byte) {
  switch (byte) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case '\a':
      return 'a';
    case '\b':
      return 'b';
    case '\t':
      return 't';
    case '\n':
      return 'n';
    case '\v':
      return 'v';
    case '\f':
      return 'f';
    case '\r':
      return 'r';
    default:
      return 0;
  }
}

}  // namespace

size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length;
  unsigned int code;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;  // a continuation byte, an overlong lead (C0, C1) or F5..FF
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  static const unsigned int kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kSmallest[length] || code > 0x10ffff) return 0;
  if (code >= 0xd800 && code <= 0xdfff) return 0;
  return length;
}

std::string EscapeMessage(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = Utf8SequenceLength(text, i);
    bool control = byte < 0x20 ? byte != '\n' && byte != '\t' : byte == 0x7f;
    if (length == 0 || control) {
      AppendOctal(byte, &out);
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::string QuoteC(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (char escape = ShortEscape(byte)) {
      out.push_back('\\');
      out.push_back(escape);
      ++i;
      continue;
    }
    size_t length = Utf8SequenceLength(text, i);
    // C1 controls (U+0080..U+009F) act on terminals like their C0 cousins.
    bool c1 = length == 2 && byte == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0;
    if (length == 0 || c1 || byte < 0x20 || byte == 0x7f) {
      AppendOctal(byte, &out);
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  out.push_back('"');
  return out;
}

std::string QuoteName(std::string_view text) {
  bool needs_quotes = text.empty();
  bool non_ascii = false;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    non_ascii |= byte >= 0x80;
    needs_quotes |= byte <= 0x20 || byte == 0x7f || byte == '"' || byte == '\\';
  }
  if (needs_quotes) return QuoteC(text);
  if (!non_ascii) return std::string(text);
  // Valid UTF-8 comes back from QuoteC unchanged but for the quotes.
  std::string quoted = QuoteC(text);
  return quoted.size() != text.size() + 2 ? quoted : std::string(text);
}

}  // namespace cairn
