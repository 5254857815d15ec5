// eddy serve: a directory over HTTP (Python's `http.server`, on eddy's server): files with
// sendfile, ranges and conditional requests; index.html or a listing for directories;
// SIGINT/SIGTERM stop it gracefully. The banner line names the port (useful with --port 0).
#include <eddy/eddy.hpp>

#include "commands.hpp"

namespace eddy::cli {

int run_serve(const ServeArgs& a) {
  http::ServerOptions o;
  o.host = a.host;
  o.port = static_cast<std::uint16_t>(a.port);
  o.workers = a.workers;
  o.access_log = !a.quiet;
  std::string dir = a.dir;
  http::run_app(
      [dir] {
        http::App app;
        http::StaticOptions so;
        so.index_file = "index.html";
        so.show_index = true;
        app.add_static("/", dir, so);
        return app;
      },
      o);
  return 0;
}

}  // namespace eddy::cli
