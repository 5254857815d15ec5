// eddy's HTTP layer in one include: messages, the strict HTTP/1.1 parser, URLs, cookies and
// the server (http::App). JSON bodies use nlohmann::json, included here for convenience.
#pragma once

#include <nlohmann/json.hpp>

#include "eddy/http/body.hpp"
#include "eddy/http/client.hpp"
#include "eddy/http/cookies.hpp"
#include "eddy/http/date.hpp"
#include "eddy/http/error.hpp"
#include "eddy/http/headers.hpp"
#include "eddy/http/message.hpp"
#include "eddy/http/middleware.hpp"
#include "eddy/http/multipart.hpp"
#include "eddy/http/parser.hpp"
#include "eddy/http/server.hpp"
#include "eddy/http/status.hpp"
#include "eddy/http/url.hpp"
#include "eddy/http/websocket.hpp"
