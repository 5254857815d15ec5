// Headers: an HTTP header section — case-insensitive names, order kept, a name may repeat.
//
//   http::Headers h;
//   h.add("Set-Cookie", "a=1");
//   h.add("Set-Cookie", "b=2");                // both are kept, in order
//   h.set("Content-Type", "text/plain");       // replaces every earlier Content-Type
//   h.get("content-type");                     // "text/plain" (names compare case-insensitively)
//   for (auto [name, value] : h) ...           // wire order, names as they were given
//
// Every name and value lives in one string owned by the Headers, and entries are offsets into
// it, so a parsed request's headers cost one copy of the head and no allocation per field;
// views returned by get() stay valid until the Headers is modified or destroyed.
// Values are stored as given: the parser has already rejected control characters in what it
// reads, and add()/set() reject CR, LF and NUL so a handler cannot split a response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::http {

// ASCII case-insensitive equality: header names, tokens, schemes.
bool iequals(std::string_view a, std::string_view b) noexcept;
// Whether `list` (a comma-separated header value such as Connection's) holds `token`.
bool has_token(std::string_view list, std::string_view token) noexcept;

class Headers {
 public:
  using Field = std::pair<std::string_view, std::string_view>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields);

  std::optional<std::string_view> get(std::string_view name) const noexcept;  // the first
  std::string_view get_or(std::string_view name, std::string_view fallback) const noexcept;
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const noexcept;
  std::size_t count(std::string_view name) const noexcept;

  void add(std::string_view name, std::string_view value);
  void set(std::string_view name, std::string_view value);  // replaces every field of `name`
  // Adds only if absent; returns whether it added.
  bool set_default(std::string_view name, std::string_view value);
  std::size_t remove(std::string_view name) noexcept;  // how many were removed
  void clear() noexcept;

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  Field at(std::size_t i) const noexcept { return field(entries_[i]); }

  class const_iterator {
   public:
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    const_iterator() = default;
    Field operator*() const noexcept { return h_->field(h_->entries_[i_]); }
    const_iterator& operator++() noexcept { return ++i_, *this; }
    const_iterator operator++(int) noexcept {
      auto c = *this;
      ++i_;
      return c;
    }
    bool operator==(const const_iterator& o) const noexcept { return i_ == o.i_; }

   private:
    friend class Headers;
    const_iterator(const Headers* h, std::size_t i) : h_(h), i_(i) {}
    const Headers* h_ = nullptr;
    std::size_t i_ = 0;
  };
  const_iterator begin() const noexcept { return {this, 0}; }
  const_iterator end() const noexcept { return {this, entries_.size()}; }

  // Appends "Name: value\r\n" for every field to `out`: how responses and requests are sent.
  void serialize(std::string& out) const;

  // For the parser: the fields of a head it has validated, as offsets into `raw`, which the
  // Headers takes over (the request line stays in it too; the parser's views point there).
  struct Entry {
    std::uint32_t name_off;
    std::uint32_t name_len;
    std::uint32_t value_off;
    std::uint32_t value_len;
  };
  std::string& raw() noexcept { return data_; }
  const std::string& raw() const noexcept { return data_; }
  void add_parsed(Entry e) { entries_.push_back(e); }
  void reserve(std::size_t fields) { entries_.reserve(fields); }

 private:
  Field field(const Entry& e) const noexcept {
    return {std::string_view(data_.data() + e.name_off, e.name_len),
            std::string_view(data_.data() + e.value_off, e.value_len)};
  }
  const Entry* find(std::string_view name) const noexcept;

  std::string data_;
  std::vector<Entry> entries_;
};

}  // namespace eddy::http
