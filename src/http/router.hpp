// The App's routing table. Routes are collected as (method, pattern, handler, middleware
// stack); freeze() composes each handler with its middleware once, and splits the routes into
// an exact-path hash map (most routes: one lookup) and an ordered list of patterns with
// `{param}` segments or a tail wildcard, tried in the order they were added.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "eddy/http/server.hpp"

namespace eddy::http::detail {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

struct MethodHandler {
  std::string method;  // "*": any
  Handler handler;     // with its middleware
};

struct Segment {
  std::string text;  // the literal, or the parameter's name
  bool param = false;
};

struct PatternRoute {
  std::vector<Segment> segments;
  bool tail = false;  // the last segment takes the rest of the path
  std::vector<MethodHandler> methods;
};

struct Router {
  struct Def {
    std::string method, pattern;
    Handler handler;
    std::vector<std::shared_ptr<const std::vector<Middleware>>> stacks;  // outermost first
  };
  std::vector<Def> defs;
  std::shared_ptr<std::vector<Middleware>> middleware = std::make_shared<std::vector<Middleware>>();
  bool frozen = false;

  std::unordered_map<std::string, std::vector<MethodHandler>, StringHash, std::equal_to<>> exact;
  std::vector<PatternRoute> patterns;
  Handler not_found;  // 404/405 through the root middleware

  void add(std::string_view method, std::string_view pattern, Handler h);
  void freeze();
  // The handler for the request (the 404/405 one when nothing matches); fills match info.
  const Handler& dispatch(Request& req) const;
};

}  // namespace eddy::http::detail
