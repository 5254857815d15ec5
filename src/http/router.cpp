// http::App and its router (see router.hpp for the table's shape).
#include "router.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "eddy/error.hpp"
#include "eddy/http/error.hpp"
#include "eddy/http/status.hpp"
#include "eddy/http/url.hpp"

namespace eddy::http {
namespace detail {
namespace {

[[noreturn]] void bad_pattern(std::string_view pattern, const char* why) {
  throw std::invalid_argument(fmt::format("eddy::http: route pattern \"{}\": {}", pattern, why));
}

// "/users/{id}/posts" -> [users, {id}, posts]; "{name:.*}" as the last segment is a tail.
PatternRoute compile(std::string_view pattern) {
  PatternRoute r;
  std::size_t i = 1;
  while (i <= pattern.size()) {
    std::size_t slash = pattern.find('/', i);
    if (slash == std::string_view::npos) slash = pattern.size();
    std::string_view seg = pattern.substr(i, slash - i);
    if (r.tail) bad_pattern(pattern, "the tail wildcard must be the last segment");
    if (!seg.empty() && seg.front() == '{') {
      if (seg.back() != '}') bad_pattern(pattern, "a parameter must be a whole segment");
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (name.size() > 3 && name.substr(name.size() - 3) == ":.*") {
        name.remove_suffix(3);
        r.tail = true;
      }
      if (name.empty() || name.find_first_of("{}:/") != std::string_view::npos)
        bad_pattern(pattern, "bad parameter name");
      r.segments.push_back({std::string(name), true});
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos)
        bad_pattern(pattern, "a parameter must be a whole segment");
      r.segments.push_back({std::string(seg), false});
    }
    i = slash + 1;
  }
  return r;
}

bool is_static(const PatternRoute& r) {
  for (const Segment& s : r.segments)
    if (s.param) return false;
  return true;
}

Response from_exception(const HttpException& e) {
  Response r(e.status(), e.body().empty() ? std::string(reason_phrase(e.status())) : e.body());
  for (auto [n, v] : e.headers()) r.headers.set(n, v);
  return r;
}

// Turns an HttpException from `h` into its response, so the middleware around `h` sees a
// response it can decorate (CORS headers, logging) rather than an exception.
Handler answering(Handler h) {
  return [h = std::move(h)](Request& req) -> Task<Response> {
    try {
      co_return co_await h(req);
    } catch (const HttpException& e) {
      co_return from_exception(e);
    }
  };
}

// The middleware gets a reference to `next`, which lives in this closure, held by the route
// for the app's lifetime.
Handler wrap(const Middleware& m, Handler next) {
  return answering(
      [m, next = std::move(next)](Request& req) -> Task<Response> { return m(req, next); });
}

// Adds (method, handler) unless the pattern already has that method.
void add_method(std::vector<MethodHandler>& v, const std::string& method, Handler h,
                std::string_view pattern) {
  for (const MethodHandler& m : v)
    if (m.method == method) bad_pattern(pattern, fmt::format("{} is routed twice", method).c_str());
  v.push_back({method, std::move(h)});
}

const Handler* pick(const std::vector<MethodHandler>& v, std::string_view method) {
  const MethodHandler* any = nullptr;
  const MethodHandler* get = nullptr;
  for (const MethodHandler& m : v) {
    if (m.method == method) return &m.handler;
    if (m.method == "*") any = &m;
    if (m.method == "GET") get = &m;
  }
  if (method == "HEAD" && get) return &get->handler;  // the connection drops the body
  return any ? &any->handler : nullptr;
}

void note_allowed(const std::vector<MethodHandler>& v, std::string& allow) {
  for (const MethodHandler& m : v) {
    if (!allow.empty()) allow += ", ";
    allow += m.method;
    if (m.method == "GET") allow += ", HEAD";
  }
}

// Splits "/a/b%2Fc/d" into its segments, percent-decoding each (so an encoded slash stays
// inside its segment instead of splitting it).
bool split_path(std::string_view raw, std::vector<std::string>& out) {
  out.clear();
  if (raw.empty() || raw.front() != '/') return false;
  std::size_t i = 1;
  while (i <= raw.size()) {
    std::size_t slash = raw.find('/', i);
    if (slash == std::string_view::npos) slash = raw.size();
    std::string_view seg = raw.substr(i, slash - i);
    out.push_back(seg.find('%') == std::string_view::npos ? std::string(seg) : percent_decode(seg));
    i = slash + 1;
  }
  return true;
}

}  // namespace

void Router::add(std::string_view method, std::string_view pattern, Handler h) {
  if (frozen) throw std::logic_error("eddy::http::App: routes added after the server started");
  if (pattern.empty() || pattern.front() != '/') bad_pattern(pattern, "must start with '/'");
  if (!h) bad_pattern(pattern, "empty handler");
  compile(pattern);  // reject a bad pattern where it is added, not at startup
  defs.push_back({std::string(method), std::string(pattern), std::move(h), {middleware}});
}

void Router::freeze() {
  if (frozen) return;
  frozen = true;
  for (Def& d : defs) {
    bool wrapped = false;  // without middleware, App::handle does the answering
    for (auto& stack : d.stacks) wrapped = wrapped || !stack->empty();
    Handler h = wrapped ? answering(d.handler) : d.handler;
    for (auto stack = d.stacks.rbegin(); stack != d.stacks.rend(); ++stack)
      for (auto m = (*stack)->rbegin(); m != (*stack)->rend(); ++m) h = wrap(*m, std::move(h));
    PatternRoute r = compile(d.pattern);
    if (is_static(r) && !r.tail) {
      add_method(exact[d.pattern], d.method, std::move(h), d.pattern);
      continue;
    }
    PatternRoute* same = nullptr;
    for (PatternRoute& p : patterns) {
      bool eq = p.tail == r.tail && p.segments.size() == r.segments.size();
      for (std::size_t i = 0; eq && i < r.segments.size(); ++i)
        eq = p.segments[i].param == r.segments[i].param &&
             (r.segments[i].param || p.segments[i].text == r.segments[i].text);
      if (eq) same = &p;
    }
    if (!same) same = &patterns.emplace_back(std::move(r));
    add_method(same->methods, d.method, std::move(h), d.pattern);
  }
  Handler fallback = [](Request& req) -> Task<Response> {
    if (req.allow_.empty()) co_return Response(Status::not_found, "Not Found");
    Response r(Status::method_not_allowed, "Method Not Allowed");
    r.headers.add("Allow", req.allow_);
    co_return r;
  };
  for (auto m = middleware->rbegin(); m != middleware->rend(); ++m)
    fallback = wrap(*m, std::move(fallback));
  not_found = std::move(fallback);
}

const Handler& Router::dispatch(Request& req) const {
  req.allow_.clear();
  req.match_.clear();
  std::string_view method = req.method();
  if (auto it = exact.find(req.path()); it != exact.end()) {
    if (const Handler* h = pick(it->second, method)) return *h;
    note_allowed(it->second, req.allow_);
  }
  if (patterns.empty()) return not_found;
  thread_local std::vector<std::string> segs;
  if (!split_path(req.raw_path(), segs)) return not_found;
  for (const PatternRoute& p : patterns) {
    std::size_t n = p.segments.size();
    if (p.tail ? segs.size() < n - 1 : segs.size() != n) continue;
    bool ok = true;
    for (std::size_t i = 0; ok && i < n; ++i) {
      if (p.tail && i == n - 1) break;
      ok = p.segments[i].param ? !segs[i].empty() : segs[i] == p.segments[i].text;
    }
    if (!ok) continue;
    const Handler* h = pick(p.methods, method);
    if (!h) {
      note_allowed(p.methods, req.allow_);
      continue;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!p.segments[i].param) continue;
      if (p.tail && i == n - 1) {
        std::string rest;
        for (std::size_t j = i; j < segs.size(); ++j) {
          if (j > i) rest += '/';
          rest += segs[j];
        }
        req.match_.emplace_back(p.segments[i].text, std::move(rest));
      } else {
        req.match_.emplace_back(p.segments[i].text, segs[i]);
      }
    }
    req.allow_.clear();
    return *h;
  }
  return not_found;
}

}  // namespace detail

// --- App

App::App() : router_(std::make_unique<detail::Router>()) {}
App::~App() = default;
App::App(App&&) noexcept = default;
App& App::operator=(App&&) noexcept = default;

App& App::route(std::string_view method, std::string_view pattern, Handler handler) {
  router_->add(method, pattern, std::move(handler));
  return *this;
}

App& App::add_subapp(std::string_view prefix, App sub) {
  if (router_->frozen) throw std::logic_error("eddy::http::App: sub-app added after start");
  std::string_view p = prefix;
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  if (p.empty() || p.front() != '/')
    throw std::invalid_argument("eddy::http::App: a sub-app prefix must start with '/'");
  for (auto& d : sub.router_->defs) {
    d.pattern = std::string(p) + d.pattern;
    d.stacks.insert(d.stacks.begin(), router_->middleware);
    router_->defs.push_back(std::move(d));
  }
  for (auto& h : sub.startup_) startup_.push_back(std::move(h));
  for (auto& h : sub.cleanup_) cleanup_.push_back(std::move(h));
  for (auto& [k, v] : sub.state_) state_.emplace(k, std::move(v));
  return *this;
}

App& App::use(Middleware m) {
  if (router_->frozen) throw std::logic_error("eddy::http::App: middleware added after start");
  router_->middleware->push_back(std::move(m));
  return *this;
}

App& App::on_startup(Hook h) {
  startup_.push_back(std::move(h));
  return *this;
}

App& App::on_cleanup(Hook h) {
  cleanup_.push_back(std::move(h));
  return *this;
}

App& App::on_error(std::function<void(const Request&, std::exception_ptr)> log) {
  on_error_ = std::move(log);
  return *this;
}

void App::freeze() {
  router_->freeze();
}

Task<> App::startup() {
  freeze();
  for (auto& h : startup_) co_await h(*this);
}

Task<> App::cleanup() {
  // Every hook runs even if one fails; the first failure is rethrown at the end.
  std::exception_ptr first;
  for (auto it = cleanup_.rbegin(); it != cleanup_.rend(); ++it) {
    try {
      co_await (*it)(*this);
    } catch (const Cancelled&) {
      throw;
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

namespace {
using detail::from_exception;

void default_error_log(const Request& req, std::exception_ptr e) {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  fmt::print(stderr, "eddy.http: error handling \"{} {} HTTP/1.{}\": {}\n", req.method(),
             req.target(), req.version_minor(), what);
}
}  // namespace

Task<Response> App::handle(Request& req) {
  freeze();
  const Handler& h = router_->dispatch(req);
  if (!req.has_app()) req.set_app(this);
  int status = 0;
  std::exception_ptr failure;
  try {
    co_return co_await h(req);
  } catch (const Cancelled&) {
    throw;
  } catch (const HttpException& e) {
    co_return from_exception(e);
  } catch (const ProtocolError& e) {
    // From reading this request's body (400, 408, 413): the client's fault, answered with
    // the status, and the connection closes. From anything else (a handler's own HTTP
    // client call): the handler failed.
    status = req.body_failed() ? e.status() : Status::internal_server_error;
    failure = std::current_exception();
  } catch (...) {
    status = Status::internal_server_error;
    failure = std::current_exception();
  }
  if (status == Status::internal_server_error) {
    if (on_error_)
      on_error_(req, failure);
    else
      default_error_log(req, failure);
  }
  co_return Response(status, std::string(reason_phrase(status)));
}

}  // namespace eddy::http
