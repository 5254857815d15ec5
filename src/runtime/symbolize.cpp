// Coroutine names for task dumps. dladdr() only sees exported symbols, and GCC emits each
// coroutine's resume function ("actor") as a local symbol, so we read the object's own ELF
// symbol table (.symtab) once, on the first dump, and look the address up there. A stripped
// binary falls back to "file+offset", which `addr2line -Cfe file offset` resolves.
#include "runtime/symbolize.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace eddy::detail {

namespace {

struct Symbol {
  std::uint64_t start;
  std::uint64_t size;
  std::string name;
};

std::vector<Symbol> read_symtab(const std::string& path) {
  std::vector<Symbol> out;
  std::ifstream f(path, std::ios::binary);
  if (!f) f.open("/proc/self/exe", std::ios::binary);
  std::vector<char> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (data.size() < sizeof(Elf64_Ehdr) || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0)
    return out;
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(data.data());
  if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
      eh->e_shoff + eh->e_shnum * sizeof(Elf64_Shdr) > data.size())
    return out;
  const auto* sh = reinterpret_cast<const Elf64_Shdr*>(data.data() + eh->e_shoff);
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
    const Elf64_Shdr& strs = sh[sh[i].sh_link];
    if (sh[i].sh_offset + sh[i].sh_size > data.size() ||
        strs.sh_offset + strs.sh_size > data.size())
      continue;
    const auto* syms = reinterpret_cast<const Elf64_Sym*>(data.data() + sh[i].sh_offset);
    std::size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
    for (std::size_t k = 0; k < n; ++k) {
      if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || syms[k].st_name >= strs.sh_size) continue;
      out.push_back(
          {syms[k].st_value, syms[k].st_size, data.data() + strs.sh_offset + syms[k].st_name});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
  return out;
}

std::string demangle(const std::string& raw) {
  // GCC names a coroutine's actor like "<mangled>...<mangled function>.Frame.actor", Clang
  // "<mangled function>.resume": demangle the last "_Z..." part before the suffix.
  std::string name = raw;
  if (auto dot = name.find(".Frame."); dot != std::string::npos) name.resize(dot);
  if (auto z = name.rfind("_Z"); z != std::string::npos && z > 0) name = name.substr(z);
  if (auto dot = name.find('.'); dot != std::string::npos) name.resize(dot);
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(
      abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), &std::free);
  return status == 0 && d ? d.get() : raw;
}

std::mutex g_mutex;
std::map<std::string, std::vector<Symbol>> g_tables;

}  // namespace

std::string coroutine_name(void* frame) {
  if (!frame) return "?";
  // GCC and Clang both lay a coroutine frame out with its resume function first (the
  // Itanium coroutine ABI that debuggers rely on too).
  void* resume = *static_cast<void**>(frame);
  Dl_info info{};
  if (!::dladdr(resume, &info)) return fmt::format("coroutine at {}", resume);
  auto offset = static_cast<std::uint64_t>(static_cast<const char*>(resume) -
                                           static_cast<const char*>(info.dli_fbase));
  std::string file = info.dli_fname ? info.dli_fname : "/proc/self/exe";
  std::lock_guard lock(g_mutex);
  auto it = g_tables.find(file);
  if (it == g_tables.end()) it = g_tables.emplace(file, read_symtab(file)).first;
  const auto& syms = it->second;
  // Position-independent objects hold offsets; a fixed-address executable absolute addresses.
  for (std::uint64_t addr : {offset, reinterpret_cast<std::uint64_t>(resume)}) {
    auto s = std::upper_bound(syms.begin(), syms.end(), addr,
                              [](std::uint64_t a, const Symbol& sym) { return a < sym.start; });
    if (s != syms.begin()) {
      --s;
      if (addr < s->start + std::max<std::uint64_t>(s->size, 1)) return demangle(s->name);
    }
  }
  if (info.dli_sname) return demangle(info.dli_sname);
  return fmt::format("coroutine at {}+{:#x}", file, offset);
}

}  // namespace eddy::detail
