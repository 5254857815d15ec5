// Name resolution on c-ares, driven by the loop: c-ares tells us (sock_state_cb) which of its
// sockets to watch, we call ares_process_fd when one is ready, and one timer entry tracks
// ares_timeout() for retransmissions. Nothing blocks and no thread is used.
//
// In front of c-ares sit a cache (aiohttp's ttl_dns_cache: an answer lives for its DNS TTL,
// capped by max_ttl; "no such name" for negative_ttl) and coalescing: concurrent look-ups of
// one name share one query. A query, once sent, always runs to completion and fills the
// cache, even if every task that wanted it was cancelled meanwhile; cancelling a look-up only
// stops that task's wait.
#include "eddy/net/dns.hpp"

#include <ares.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <mutex>
#include <unordered_map>

#include "eddy/detail/io_source.hpp"
#include "eddy/detail/timer.hpp"
#include "eddy/sync/event.hpp"
#include "eddy/time.hpp"
#include "runtime/loop.hpp"

namespace eddy::net {

namespace detail {

namespace {

using Clock = std::chrono::steady_clock;

struct CacheEntry {
  std::vector<SocketAddress> addrs;  // port 0; empty for a negative entry
  std::string error;                 // why the name does not resolve (negative entries)
  Clock::time_point expires;
};

// One query in flight, shared by every task that asked for the same name meanwhile.
struct Pending {
  eddy::Event done;
  std::vector<SocketAddress> addrs;
  std::exception_ptr error;
};

}  // namespace

class ResolverCore {
 public:
  explicit ResolverCore(ResolverOptions o) : options(std::move(o)), timer_(this) {}
  ~ResolverCore();

  Task<std::vector<SocketAddress>> lookup(std::string host, int family);
  void clear_cache() { cache_.clear(); }

  ResolverOptions options;

 private:
  // One c-ares socket's registration with the loop (level-triggered: c-ares reads one
  // packet per call, so an edge could strand the rest).
  struct Watch final : eddy::detail::IoSource {
    ResolverCore* core;
    int fd;
    Watch(ResolverCore* c, int f) : core(c), fd(f) {}
    void on_io(std::uint32_t ev) noexcept override {
      if (fd < 0) return;  // c-ares dropped the socket earlier in this poll batch
      ResolverCore* c = core;
      int f = fd;  // `this` may be retired by the call below
      bool rd = ev & (EPOLLIN | EPOLLERR | EPOLLHUP);
      bool wr = ev & (EPOLLOUT | EPOLLERR | EPOLLHUP);
      ares_process_fd(c->channel_, rd ? f : ARES_SOCKET_BAD, wr ? f : ARES_SOCKET_BAD);
      c->rearm();
    }
  };
  struct Timeout final : eddy::detail::TimerEntry {
    ResolverCore* core;
    explicit Timeout(ResolverCore* c) : core(c) {}
    void on_timer() noexcept override {
      armed = 0;
      ares_process_fd(core->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      core->rearm();
    }
  };
  struct QueryArg {
    ResolverCore* core;
    std::string key;
    std::string host;
  };

  void ensure_channel();
  void rearm() noexcept;
  void start_query(const std::string& key, const std::string& host, int family);
  void finish_query(QueryArg* q, int status, ares_addrinfo* res) noexcept;
  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept;
  static void on_addrinfo(void* arg, int status, int timeouts, ares_addrinfo* res) noexcept;

  ares_channel channel_ = nullptr;
  eddy::detail::Loop* loop_ = nullptr;
  std::unordered_map<int, std::unique_ptr<Watch>> watches_;
  std::vector<std::unique_ptr<Watch>> retired_;  // freed after the current poll batch
  Timeout timer_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::unordered_map<std::string, std::shared_ptr<Pending>> inflight_;
  bool destroying_ = false;
};

ResolverCore::~ResolverCore() {
  destroying_ = true;
  if (timer_.armed) eddy::detail::timer_disarm(&timer_);
  // Deregister while the descriptors are still ours; ares_destroy closes them.
  for (auto& [fd, w] : watches_) eddy::detail::io_deregister(fd, false);
  if (channel_) ares_destroy(channel_);  // fails pending queries (ARES_EDESTRUCTION)
}

void ResolverCore::ensure_channel() {
  if (channel_) return;
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
  ares_options o{};
  o.sock_state_cb = &ResolverCore::on_sock_state;
  o.sock_state_cb_data = this;
  o.timeout = static_cast<int>(options.timeout.count());
  o.tries = std::max(1, options.tries);
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  int rc = ares_init_options(&channel_, &o, mask);
  if (rc != ARES_SUCCESS) {
    channel_ = nullptr;
    throw DnsError(fmt::format("resolver: cannot initialise c-ares: {}", ares_strerror(rc)), false);
  }
  if (!options.servers.empty()) {
    std::string csv;
    for (auto& s : options.servers) csv += (csv.empty() ? "" : ",") + s;
    rc = ares_set_servers_ports_csv(channel_, csv.c_str());
    if (rc != ARES_SUCCESS) {
      ares_destroy(channel_);
      channel_ = nullptr;
      throw DnsError(fmt::format("resolver: bad name servers '{}': {}", csv, ares_strerror(rc)),
                     false);
    }
  }
  loop_ = &eddy::detail::current_loop_checked();
}

void ResolverCore::on_sock_state(void* data, ares_socket_t fd, int readable,
                                 int writable) noexcept {
  auto* self = static_cast<ResolverCore*>(data);
  if (self->destroying_) return;
  std::uint32_t events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
  auto it = self->watches_.find(fd);
  if (events == 0) {
    if (it == self->watches_.end()) return;
    eddy::detail::io_deregister(fd, false);
    it->second->fd = -1;
    self->retired_.push_back(std::move(it->second));
    self->watches_.erase(it);
    // Free retired watches once the poll batch that may still name them is over.
    if (self->retired_.size() == 1) self->loop_->call_soon([self] { self->retired_.clear(); });
    return;
  }
  try {
    if (it == self->watches_.end()) {
      auto w = std::make_unique<Watch>(self, fd);
      eddy::detail::io_register(fd, w.get(), events, false);
      self->watches_.emplace(fd, std::move(w));
    } else {
      eddy::detail::io_modify(fd, it->second.get(), events);
    }
  } catch (...) {
    // epoll refused the socket (out of memory): the query times out through the timer.
  }
}

void ResolverCore::rearm() noexcept {
  if (destroying_ || !channel_) return;
  if (timer_.armed) eddy::detail::timer_disarm(&timer_);
  timeval tv{};
  if (!ares_timeout(channel_, nullptr, &tv)) return;  // nothing pending
  auto delay = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  eddy::detail::timer_arm(&timer_, eddy::now() + delay);  // the loop's clock (virtual in tests)
}

void ResolverCore::start_query(const std::string& key, const std::string& host, int family) {
  ensure_channel();
  ares_addrinfo_hints hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  auto* arg = new QueryArg{this, key, host};
  // Counted as outside work, so the virtual clock waits for the answer instead of jumping
  // to c-ares' retransmission timer.
  loop_->external_begin();
  ares_getaddrinfo(channel_, host.c_str(), nullptr, &hints, &ResolverCore::on_addrinfo, arg);
  rearm();
}

void ResolverCore::on_addrinfo(void* arg, int status, int, ares_addrinfo* res) noexcept {
  auto* q = static_cast<QueryArg*>(arg);
  q->core->finish_query(q, status, res);
  if (res) ares_freeaddrinfo(res);
  delete q;
}

void ResolverCore::finish_query(QueryArg* q, int status, ares_addrinfo* res) noexcept {
  if (loop_) loop_->external_end();
  auto it = inflight_.find(q->key);
  if (it == inflight_.end()) return;
  std::shared_ptr<Pending> p = std::move(it->second);
  inflight_.erase(it);
  try {
    std::vector<SocketAddress> addrs;
    int ttl = std::numeric_limits<int>::max();
    if (status == ARES_SUCCESS && res) {
      for (ares_addrinfo_node* n = res->nodes; n; n = n->ai_next) {
        SocketAddress a(n->ai_addr, n->ai_addrlen);
        if (std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(a);
        ttl = std::min(ttl, n->ai_ttl);
      }
    }
    bool not_found = status == ARES_ENOTFOUND || status == ARES_ENODATA ||
                     (status == ARES_SUCCESS && addrs.empty());
    auto now = eddy::now();
    if (status == ARES_SUCCESS && !addrs.empty()) {
      auto keep =
          std::min<std::chrono::seconds>(std::chrono::seconds(std::max(ttl, 0)), options.max_ttl);
      if (keep.count() > 0 && !destroying_) cache_[q->key] = CacheEntry{addrs, {}, now + keep};
      p->addrs = std::move(addrs);
    } else {
      std::string why = status == ARES_SUCCESS ? "no addresses" : ares_strerror(status);
      std::string msg = fmt::format("resolve '{}': {}", q->host, why);
      auto keep = std::min(options.negative_ttl, options.max_ttl);
      if (not_found && keep.count() > 0 && !destroying_)
        cache_[q->key] = CacheEntry{{}, msg, now + keep};
      p->error = std::make_exception_ptr(DnsError(msg, not_found));
    }
  } catch (...) {
    p->error = std::current_exception();
  }
  p->done.set();
  // A bounded cache: drop what has expired once it grows, and everything if that is not enough.
  if (cache_.size() > 4096) {
    auto now = eddy::now();
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.expires <= now; });
    if (cache_.size() > 4096) cache_.clear();
  }
}

Task<std::vector<SocketAddress>> ResolverCore::lookup(std::string host, int family) {
  if (loop_ && loop_ != &eddy::detail::current_loop_checked())
    throw InvalidStateError("eddy: a Resolver belongs to the loop it first resolved on");
  std::string key = host;
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  key += '/';
  key += std::to_string(family);
  if (auto it = cache_.find(key); it != cache_.end()) {
    if (it->second.expires > eddy::now()) {
      if (it->second.addrs.empty()) throw DnsError(it->second.error, true);
      co_return it->second.addrs;
    }
    cache_.erase(it);
  }
  std::shared_ptr<Pending> p;
  if (auto it = inflight_.find(key); it != inflight_.end()) {
    p = it->second;
  } else {
    p = std::make_shared<Pending>();
    inflight_.emplace(key, p);
    try {
      start_query(key, host, family);
    } catch (...) {
      inflight_.erase(key);
      throw;
    }
  }
  co_await p->done.wait();
  if (p->error) std::rethrow_exception(p->error);
  co_return p->addrs;
}

}  // namespace detail

namespace {

struct ResolverService final : eddy::detail::Loop::Service {
  Resolver resolver;
};
const char kServiceKey = 0;

bool valid_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace

Resolver::Resolver(ResolverOptions options)
    : core_(std::make_unique<detail::ResolverCore>(std::move(options))) {}
Resolver::~Resolver() = default;

Task<std::vector<SocketAddress>> Resolver::resolve(std::string host, std::uint16_t port,
                                                   int family) {
  if (auto ip = SocketAddress::parse(host, port)) co_return std::vector<SocketAddress>{*ip};
  if (!valid_host_name(host))
    throw DnsError(fmt::format("resolve: '{}' is not a valid host name", host), true);
  auto addrs = co_await core_->lookup(std::move(host), family);
  for (auto& a : addrs) a.set_port(port);
  co_return interleave_families(std::move(addrs));
}

void Resolver::clear_cache() {
  core_->clear_cache();
}

const ResolverOptions& Resolver::options() const noexcept {
  return core_->options;
}

Resolver& default_resolver() {
  auto& loop = eddy::detail::current_loop_checked();
  if (auto* s = loop.service(&kServiceKey)) return static_cast<ResolverService*>(s)->resolver;
  auto s = std::make_unique<ResolverService>();
  Resolver& r = s->resolver;
  loop.add_service(&kServiceKey, std::move(s));
  return r;
}

std::vector<SocketAddress> interleave_families(std::vector<SocketAddress> addrs) {
  if (addrs.size() < 3 && (addrs.size() < 2 || addrs[0].family() != addrs[1].family()))
    return addrs;
  int first = addrs.front().family();
  std::vector<SocketAddress> a, b, out;
  for (auto& x : addrs) (x.family() == first ? a : b).push_back(x);
  out.reserve(addrs.size());
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i < a.size()) out.push_back(a[i]);
    if (i < b.size()) out.push_back(b[i]);
  }
  return out;
}

}  // namespace eddy::net
