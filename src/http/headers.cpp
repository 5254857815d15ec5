// Headers: see eddy/http/headers.hpp.
#include "eddy/http/headers.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>

namespace eddy::http {

namespace {
inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? char(c | 0x20) : c;
}

// Bytes a header name must not hold: the ones that would break the message framing, ':'
// and ' '.
constexpr auto kBad = [] {
  std::array<std::uint8_t, 256> t{};
  for (unsigned char c : {'\r', '\n', '\0', ':', ' '}) t[c] = 1;
  return t;
}();

void check(std::string_view name, std::string_view value) {
  // Only what would break the message framing: a handler's header must not split a response.
  // This runs for every header of every response, so no find_first_of over a set: it calls
  // memchr once per byte, which was a sixth of a small response's cost.
  unsigned bad = name.empty();
  for (char c : name) bad |= kBad[static_cast<unsigned char>(c)];
  if (bad) throw std::invalid_argument("invalid header name: " + std::string(name.substr(0, 64)));
  // Values are longer: three vectorised scans beat a byte loop.
  if (value.find('\r') != value.npos || value.find('\n') != value.npos ||
      value.find('\0') != value.npos)
    throw std::invalid_argument("CR, LF or NUL in the value of header " + std::string(name));
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool has_token(std::string_view list, std::string_view token) noexcept {
  std::size_t i = 0;
  while (i < list.size()) {
    std::size_t comma = list.find(',', i);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(i, comma - i);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    i = comma + 1;
  }
  return false;
}

Headers::Headers(std::initializer_list<Field> fields) {
  for (auto& [n, v] : fields) add(n, v);
}

const Headers::Entry* Headers::find(std::string_view name) const noexcept {
  for (const Entry& e : entries_)
    if (e.name_len == name.size() && iequals(field(e).first, name)) return &e;
  return nullptr;
}

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
  if (const Entry* e = find(name)) return field(*e).second;
  return std::nullopt;
}

std::string_view Headers::get_or(std::string_view name, std::string_view fallback) const noexcept {
  if (const Entry* e = find(name)) return field(*e).second;
  return fallback;
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Entry& e : entries_)
    if (e.name_len == name.size() && iequals(field(e).first, name)) out.push_back(field(e).second);
  return out;
}

bool Headers::contains(std::string_view name) const noexcept {
  return find(name) != nullptr;
}

std::size_t Headers::count(std::string_view name) const noexcept {
  std::size_t n = 0;
  for (const Entry& e : entries_) n += e.name_len == name.size() && iequals(field(e).first, name);
  return n;
}

void Headers::add(std::string_view name, std::string_view value) {
  check(name, value);
  if (data_.size() + name.size() + value.size() > UINT32_MAX)
    throw std::length_error("header section too large");
  Entry e{static_cast<std::uint32_t>(data_.size()), static_cast<std::uint32_t>(name.size()),
          static_cast<std::uint32_t>(data_.size() + name.size()),
          static_cast<std::uint32_t>(value.size())};
  data_.append(name);
  data_.append(value);
  entries_.push_back(e);
}

void Headers::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

bool Headers::set_default(std::string_view name, std::string_view value) {
  if (contains(name)) return false;
  add(name, value);
  return true;
}

std::size_t Headers::remove(std::string_view name) noexcept {
  // The bytes stay in data_ (offsets of the others must not move); they go with clear().
  auto it = std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.name_len == name.size() && iequals(field(e).first, name);
  });
  std::size_t n = static_cast<std::size_t>(entries_.end() - it);
  entries_.erase(it, entries_.end());
  return n;
}

void Headers::clear() noexcept {
  data_.clear();
  entries_.clear();
}

void Headers::serialize(std::string& out) const {
  for (const Entry& e : entries_) {
    auto [n, v] = field(e);
    out.append(n);
    out.append(": ", 2);
    out.append(v);
    out.append("\r\n", 2);
  }
}

}  // namespace eddy::http
