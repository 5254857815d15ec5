// eddy::fs on a temporary directory. Rules pinned here (docs/semantics.md, "Files"):
//  - read_file/write_file round-trip any bytes; missing files are FileNotFoundError naming
//    the path; "x" on an existing file is FileExistsError;
//  - an atomic write replaces the file whole and leaves no temporary behind;
//  - read_line/lines() split on '\n' and return the unterminated tail last;
//  - a cancelled read loses no byte; calls on one File run in order;
//  - writing after reading writes at the caller's position, not past the read-ahead;
//  - the loop keeps running other tasks while a file call is on a thread.
#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/fs.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;
namespace fs = eddy::fs;

EDDY_TEST(Fs, ReadAndWriteWholeFiles) {
  eddy_test::TempDir dir;
  std::string data;
  for (int i = 0; i < 300'000; ++i) data += static_cast<char>(i * 31);  // binary, with NULs
  co_await fs::write_file(dir / "blob", data);
  EXPECT_EQ(co_await fs::read_file(dir / "blob"), data);
  EXPECT_EQ(co_await fs::file_size(dir / "blob"), data.size());
  co_await fs::write_file(dir / "blob", "short");
  EXPECT_EQ(co_await fs::read_file(dir / "blob"), "short") << "write_file truncates";
  co_await fs::write_file(dir / "blob", "+more", {.append = true});
  EXPECT_EQ(co_await fs::read_file(dir / "blob"), "short+more");
  EXPECT_TRUE(co_await fs::exists(dir / "blob"));
  co_await fs::rename(dir / "blob", dir / "moved");
  EXPECT_FALSE(co_await fs::exists(dir / "blob"));
  co_await fs::remove(dir / "moved");
  EXPECT_FALSE(co_await fs::exists(dir / "moved"));
}

EDDY_TEST(Fs, ErrorsNameThePathAndHaveTheirPythonType) {
  eddy_test::TempDir dir;
  try {
    co_await fs::read_file(dir / "missing.txt");
    ADD_FAILURE() << "read a missing file";
  } catch (const eddy::FileNotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(co_await fs::remove(dir / "missing.txt"), eddy::FileNotFoundError);
  co_await fs::write_file(dir / "there", "x");
  EXPECT_THROW(co_await fs::File::open(dir / "there", "x"), eddy::FileExistsError);
  EXPECT_THROW(co_await fs::File::open(dir / "there", "rw"), std::invalid_argument);
  co_await fs::write_file(dir / "locked", "secret", {.mode = 0});
  if (::geteuid() != 0) {  // root reads anything
    EXPECT_THROW(co_await fs::read_file(dir / "locked"), eddy::PermissionError);
  }
}

EDDY_TEST(Fs, AtomicWriteReplacesWholeAndLeavesNoTemporary) {
  eddy_test::TempDir dir;
  co_await fs::write_file(dir / "state.json", "{\"v\": 1}");
  co_await fs::write_file(dir / "state.json", "{\"v\": 2}", {.atomic = true, .mode = 0600});
  EXPECT_EQ(co_await fs::read_file(dir / "state.json"), "{\"v\": 2}");
  std::vector<std::string> names;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"state.json"});
  auto perms = std::filesystem::status(dir / "state.json").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // A failed atomic write (the directory is gone) leaves the old file alone elsewhere and
  // reports the path.
  EXPECT_THROW(co_await fs::write_file(dir / "no-such-dir/x", "y", {.atomic = true}),
               eddy::FileNotFoundError);
}

EDDY_TEST(Fs, LinesAndReads) {
  eddy_test::TempDir dir;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i) + "\n";
  text += "tail without newline";
  co_await fs::write_file(dir / "log", text);
  auto f = co_await fs::File::open(dir / "log");
  EXPECT_EQ(co_await f.read_line(), "line 0\n");
  EXPECT_EQ(co_await f.read(5), "line ");
  EXPECT_EQ(co_await f.read_line(), "1\n");
  int n = 0;
  std::string last;
  auto lines = f.lines();
  while (auto line = co_await lines.next()) {
    ++n;
    last = *line;
  }
  EXPECT_EQ(n, 4999);
  EXPECT_EQ(last, "tail without newline");
  EXPECT_EQ(co_await f.read_line(), "") << "EOF";
  EXPECT_EQ(co_await f.seek(0), 0u);
  EXPECT_EQ(co_await f.read(), text) << "read() with no size reads the rest";
  co_await f.close();
  EXPECT_FALSE(f.is_open());
  EXPECT_THROW(co_await f.read(), eddy::InvalidStateError);
}

EDDY_TEST(Fs, WriteAfterReadUsesTheCallersPosition) {
  eddy_test::TempDir dir;
  co_await fs::write_file(dir / "f", "0123456789");
  auto f = co_await fs::File::open(dir / "f", "r+");
  EXPECT_EQ(co_await f.read(3), "012");  // the file read ahead past this
  co_await f.write("abc");
  EXPECT_EQ(co_await f.read(), "6789");
  EXPECT_EQ(co_await f.size(), 10u);
  co_await f.sync();
  co_await f.close();
  EXPECT_EQ(co_await fs::read_file(dir / "f"), "012abc6789");

  auto a = co_await fs::File::open(dir / "f", "a");
  co_await a.write("!");
  co_await a.close();
  EXPECT_EQ(co_await fs::read_file(dir / "f"), "012abc6789!");
}

EDDY_TEST(Fs, CancelledReadsLoseNothingAndCallsStayInOrder) {
  eddy_test::TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += std::to_string(i) + "\n";
  co_await fs::write_file(dir / "nums", text);
  std::size_t fds = eddy_test::open_fd_count();
  auto f = co_await fs::File::open(dir / "nums");
  std::string got;
  int cancelled = 0;
  for (int i = 0; i < 10000 && got.size() < text.size(); ++i) {
    // Cancel every other read at once: whether it ran on its thread or not, nothing is lost.
    auto h = eddy::spawn(f.read_line());
    if (i % 2) h.cancel();
    try {
      got += co_await h;
    } catch (const eddy::TaskCancelled&) {
      ++cancelled;
    }
  }
  EXPECT_GT(cancelled, 0);
  EXPECT_TRUE(got == text) << "got " << got.size() << " of " << text.size() << " bytes";
  co_await f.close();
  // Abandoned opens close what they opened.
  for (int i = 0; i < 50; ++i) {
    auto h = eddy::spawn(fs::File::open(dir / "nums"));
    h.cancel();
    try {
      auto g = co_await h;
    } catch (const eddy::TaskCancelled&) {
    }
  }
  // The virtual clock does not move while a thread call is in flight, so this returns only
  // after every abandoned open has come back and been closed.
  co_await eddy::sleep(100ms);
  EXPECT_EQ(eddy_test::open_fd_count(), fds);
}

EDDY_TEST(Fs, TheLoopRunsWhileFilesWork) {
  eddy_test::TempDir dir;
  std::string big(32 << 20, 'z');
  int ticks = 0;
  bool done = false;
  auto ticker = eddy::spawn([&]() -> eddy::Task<> {
    while (!done) {
      ++ticks;
      co_await eddy::yield_now();
    }
  });
  co_await fs::write_file(dir / "big", big, {.sync = true});
  auto back = co_await fs::read_file(dir / "big");
  done = true;
  co_await ticker;
  EXPECT_EQ(back.size(), big.size());
  EXPECT_GT(ticks, 10) << "other tasks ran while 64 MiB went to and from disk";
}
