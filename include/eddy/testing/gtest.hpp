// GoogleTest helper: a test whose body is a coroutine, run on the virtual clock.
//
//   EDDY_TEST(Queue, GetWaitsForPut) {
//     eddy::Queue<int> q;
//     ...
//     EXPECT_EQ(co_await q.get(), 1);
//   }
//
// Use EXPECT_* inside the body: GoogleTest's ASSERT_* macros `return`, which a coroutine
// cannot. EDDY_CO_ASSERT(cond) is the fatal form for coroutines.
#pragma once

#include <gtest/gtest.h>

#include "eddy/testing/virtual_clock.hpp"

#define EDDY_TEST(suite, name)                                       \
  static ::eddy::Task<void> eddy_test_body_##suite##_##name();       \
  TEST(suite, name) {                                                \
    ::eddy::testing::run_virtual(eddy_test_body_##suite##_##name()); \
  }                                                                  \
  static ::eddy::Task<void> eddy_test_body_##suite##_##name()

#define EDDY_CO_ASSERT(cond)                       \
  do {                                             \
    if (!(cond)) {                                 \
      ADD_FAILURE() << "assertion failed: " #cond; \
      co_return;                                   \
    }                                              \
  } while (0)
