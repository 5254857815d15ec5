// net::serve / net::Server. Rules pinned here:
//  - every connection gets its own handler task; what a handler writes before returning is
//    flushed and the connection closed (the client reads it, then EOF);
//  - close() stops accepting (new connects are refused) while running handlers finish, and
//    wait_closed() returns once they have;
//  - shutdown(grace) cancels handlers still running after `grace`;
//  - cancelling serve_forever() shuts the server down before the cancellation propagates;
//  - a handler that throws is reported to the loop's exception handler; the server goes on;
//  - max_connections bounds the handlers running at once.
#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;
namespace net = eddy::net;

namespace {

eddy::Task<> echo(net::Stream& s) {
  char buf[4096];
  while (std::size_t n = co_await s.read_some(buf)) {
    s.write({buf, n});
    co_await s.drain();
  }
}

eddy::Task<std::string> round_trip(std::uint16_t port, std::string msg) {
  auto c = co_await net::open_connection("127.0.0.1", port);
  c.write(msg);
  co_await c.shutdown_write();
  co_return co_await c.read_to_eof();
}

// A handler that never finishes on its own and records that it was cancelled.
net::ConnectionHandler sleeps_until_cancelled(bool& cancelled) {
  return [&cancelled](net::Stream&) -> eddy::Task<> {
    try {
      co_await eddy::sleep(1h);
    } catch (const eddy::Cancelled&) {
      cancelled = true;
      throw;
    }
  };
}

}  // namespace

EDDY_TEST(Server, EchoesManyConnectionsAtOnce) {
  auto srv = co_await net::serve(echo, "127.0.0.1", 0);
  EDDY_CO_ASSERT(srv.port() != 0);
  std::vector<eddy::Task<std::string>> clients;
  for (int i = 0; i < 50; ++i)
    clients.push_back(round_trip(srv.port(), "hello " + std::to_string(i)));
  auto replies = co_await eddy::gather(std::move(clients));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(replies[i], "hello " + std::to_string(i));
  co_await srv.shutdown(1s);
  EXPECT_EQ(srv.connections(), 0u);
}

EDDY_TEST(Server, ReplyWrittenBeforeReturnIsDelivered) {
  std::string big(1 << 20, 'r');
  auto srv = co_await net::serve(
      [&](net::Stream& s) -> eddy::Task<> {
        s.write(big);  // far more than the socket takes at once; no drain
        co_return;
      },
      "127.0.0.1", 0);
  auto c = co_await net::open_connection("127.0.0.1", srv.port());
  EXPECT_EQ((co_await c.read_to_eof()).size(), big.size());
  co_await srv.shutdown(1s);
}

EDDY_TEST(Server, CloseStopsAcceptingButLetsHandlersFinish) {
  eddy::Event release;
  int finished = 0;
  auto srv = co_await net::serve(
      [&](net::Stream& s) -> eddy::Task<> {
        co_await release.wait();
        s.write("done");
        ++finished;
      },
      "127.0.0.1", 0);
  std::uint16_t port = srv.port();
  auto c = co_await net::open_connection("127.0.0.1", port);
  while (srv.connections() == 0) co_await eddy::sleep(1ms);
  srv.close();
  EXPECT_FALSE(srv.is_serving());
  EXPECT_THROW(co_await net::open_connection("127.0.0.1", port), eddy::ConnectionRefusedError);
  auto waiting = eddy::spawn(srv.wait_closed());
  co_await eddy::sleep(10ms);
  EXPECT_FALSE(waiting.done()) << "wait_closed returned while a handler ran";
  release.set();
  co_await waiting;
  EXPECT_EQ(finished, 1);
  EXPECT_EQ(co_await c.read_to_eof(), "done");
}

EDDY_TEST(Server, ShutdownCancelsHandlersAfterGrace) {
  bool cancelled = false;
  auto srv = co_await net::serve(sleeps_until_cancelled(cancelled), "127.0.0.1", 0);
  auto c = co_await net::open_connection("127.0.0.1", srv.port());
  while (srv.connections() == 0) co_await eddy::sleep(1ms);
  auto t0 = eddy::now();
  co_await srv.shutdown(200ms);
  EXPECT_GE(eddy::now() - t0, 200ms);
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(co_await c.read(), "");  // the connection was closed
}

EDDY_TEST(Server, CancellingServeForeverShutsDown) {
  bool cancelled = false;
  auto srv = co_await net::serve(sleeps_until_cancelled(cancelled), "127.0.0.1", 0);
  auto c = co_await net::open_connection("127.0.0.1", srv.port());
  while (srv.connections() == 0) co_await eddy::sleep(1ms);
  auto r = co_await eddy::move_on_after(50ms, srv.serve_forever());
  EXPECT_FALSE(r);
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(srv.connections(), 0u);
  EXPECT_FALSE(srv.is_serving());
}

TEST(Server, FailingHandlerIsReportedAndServerGoesOn) {
  std::vector<std::string> reports;
  eddy::RunOptions opts;
  opts.virtual_clock = true;
  opts.exception_handler = [&](const eddy::ExceptionContext& ctx) {
    reports.push_back(ctx.message);
  };
  eddy::run(
      [&]() -> eddy::Task<> {
        int calls = 0;
        auto srv = co_await net::serve(
            [&](net::Stream& s) -> eddy::Task<> {
              if (++calls == 1) throw std::runtime_error("handler broke");
              co_await echo(s);
            },
            "127.0.0.1", 0);
        auto first = co_await net::open_connection("127.0.0.1", srv.port());
        EXPECT_EQ(co_await first.read(), "");  // closed after the failure
        EXPECT_EQ(co_await round_trip(srv.port(), "second"), "second");
        co_await srv.shutdown(1s);
      }(),
      opts);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("handler broke"), std::string::npos);
  EXPECT_NE(reports[0].find("127.0.0.1:"), std::string::npos) << "names the peer";
}

EDDY_TEST(Server, MaxConnectionsBoundsConcurrentHandlers) {
  int running = 0, peak = 0;
  net::ServeOptions o;
  o.max_connections = 3;
  auto srv = co_await net::serve(
      [&](net::Stream& s) -> eddy::Task<> {
        peak = std::max(peak, ++running);
        co_await eddy::sleep(20ms);
        --running;
        co_await echo(s);
      },
      "127.0.0.1", 0, o);
  std::vector<eddy::Task<std::string>> clients;
  for (int i = 0; i < 12; ++i) clients.push_back(round_trip(srv.port(), "m" + std::to_string(i)));
  auto replies = co_await eddy::gather(std::move(clients));
  EXPECT_EQ(replies.size(), 12u);
  EXPECT_EQ(peak, 3);
  co_await srv.shutdown(1s);
}

EDDY_TEST(Server, DualStackWildcardAcceptsIpv4) {
  auto srv = co_await net::serve(echo, "", 0);
  EXPECT_EQ(co_await round_trip(srv.port(), "v4 to ::"), "v4 to ::");
  co_await srv.shutdown(1s);
}

// Review regression: a connection task cancelled before its first step used to leave its
// entry behind, and shutdown then waited for it forever.
EDDY_TEST(Server, ShutdownRightAfterAcceptNeverHangs) {
  for (int turns = 0; turns < 30; ++turns) {
    auto srv = co_await net::serve(echo, "127.0.0.1", 0);
    std::vector<eddy::TaskHandle<net::Stream>> clients;
    for (int i = 0; i < 5; ++i)
      clients.push_back(eddy::spawn(net::open_connection("127.0.0.1", srv.port())));
    for (int i = 0; i < turns % 6; ++i) co_await eddy::yield_now();
    bool finished = co_await eddy::move_on_after(5s, srv.shutdown(0ms));
    EXPECT_TRUE(finished) << "shutdown hung after " << turns % 6 << " turns";
    EXPECT_EQ(srv.connections(), 0u);
    for (auto& c : clients) {
      c.cancel();
      try {
        auto s = co_await std::move(c);
      } catch (const eddy::TaskCancelled&) {
      } catch (const eddy::ConnectionError&) {
      }
    }
  }
}
