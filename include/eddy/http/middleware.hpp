// Ready-made middleware for http::App (and examples of writing your own).
//
//   app.use(http::middleware::cors({.origins = {"https://app.example"}}));
//   app.use(http::middleware::compression());
//   app.use(http::middleware::bearer_auth([](std::string_view token) -> Task<bool> {
//     co_return token == "s3cret";
//   }));
//
// Middleware added first runs outermost: add CORS before auth, so a browser's preflight gets
// its answer without credentials.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/http/server.hpp"

namespace eddy::http::middleware {

struct CorsOptions {
  std::vector<std::string> origins{"*"};  // "*" or exact origins ("https://a.example")
  std::string methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
  std::string headers = "Content-Type, Authorization";
  bool credentials = false;  // Access-Control-Allow-Credentials (needs exact origins)
  std::chrono::seconds max_age{600};
};

// Answers preflight requests (OPTIONS with Access-Control-Request-Method) with 204 and the
// allowed methods and headers; adds Access-Control-Allow-Origin to responses for allowed
// origins. Requests from other origins pass through without CORS headers (the browser then
// blocks the response).
Middleware cors(CorsOptions options = {});

// Marks responses for gzip (Response::compress) when they are text-like and at least
// `min_size` bytes (streams: always): the connection compresses if the client accepts it.
Middleware compression(std::size_t min_size = 1024);

// 401 with WWW-Authenticate: Bearer unless `Authorization: Bearer <token>` passes `check`.
// The token is stored on the request as "token" (req.get<std::string>("token")).
Middleware bearer_auth(std::function<Task<bool>(std::string_view token)> check);

// Calls `log` after each response with the time the handler took (for metrics or logs).
Middleware timing(
    std::function<void(const Request&, const Response&, std::chrono::nanoseconds)> log);

}  // namespace eddy::http::middleware
