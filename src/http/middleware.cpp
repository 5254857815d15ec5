// The ready-made middleware (see eddy/http/middleware.hpp).
#include "eddy/http/middleware.hpp"

#include <algorithm>

#include "eddy/http/error.hpp"
#include "gzip.hpp"

namespace eddy::http::middleware {

Middleware cors(CorsOptions o) {
  bool any = std::find(o.origins.begin(), o.origins.end(), "*") != o.origins.end();
  return [o = std::move(o), any](Request& req, const Handler& next) -> Task<Response> {
    auto origin = req.header("Origin");
    bool allowed = origin && (any || std::find(o.origins.begin(), o.origins.end(), *origin) !=
                                         o.origins.end());
    auto decorate = [&](Response& r) {
      if (!allowed) return;
      // With credentials, "*" is not allowed by browsers: echo the origin instead.
      bool echo = !any || o.credentials;
      r.headers.set("Access-Control-Allow-Origin", echo ? *origin : std::string_view("*"));
      if (echo) r.headers.add("Vary", "Origin");
      if (o.credentials) r.headers.set("Access-Control-Allow-Credentials", "true");
    };
    if (req.method() == "OPTIONS" && req.header("Access-Control-Request-Method")) {
      Response r(204);
      if (allowed) {
        r.headers.add("Access-Control-Allow-Methods", o.methods);
        r.headers.add("Access-Control-Allow-Headers", o.headers);
        r.headers.add("Access-Control-Max-Age", std::to_string(o.max_age.count()));
      }
      decorate(r);
      co_return r;
    }
    Response r = co_await next(req);
    decorate(r);
    co_return r;
  };
}

Middleware compression(std::size_t min_size) {
  return [min_size](Request& req, const Handler& next) -> Task<Response> {
    Response r = co_await next(req);
    bool big = r.stream_fn ? true : r.body.size() >= min_size;
    if (big && r.file_path.empty() && detail::compressible(r.headers.get_or("Content-Type", "")))
      r.compress = true;
    co_return r;
  };
}

Middleware bearer_auth(std::function<Task<bool>(std::string_view)> check) {
  return [check = std::move(check)](Request& req, const Handler& next) -> Task<Response> {
    std::string_view auth = req.headers().get_or("Authorization", "");
    bool ok = false;
    if (auth.size() > 7 && iequals(auth.substr(0, 7), "Bearer ")) {
      std::string_view token = auth.substr(7);
      ok = co_await check(token);
      if (ok) req.set("token", std::string(token));
    }
    if (!ok) throw HttpException(401, "Unauthorized", {{"WWW-Authenticate", "Bearer"}});
    co_return co_await next(req);
  };
}

Middleware timing(
    std::function<void(const Request&, const Response&, std::chrono::nanoseconds)> log) {
  return [log = std::move(log)](Request& req, const Handler& next) -> Task<Response> {
    auto start = std::chrono::steady_clock::now();
    Response r = co_await next(req);
    log(req, r, std::chrono::steady_clock::now() - start);
    co_return r;
  };
}

}  // namespace eddy::http::middleware
