// Debugging a hung or slow service.
//
// - `dump_tasks()`: every live task of this thread's loop, its state, and the chain of
//   coroutines it is suspended in (file:line of each co_await), innermost first. In debug
//   mode (EDDY_DEBUG=1 or RunOptions::debug) SIGUSR1 logs the same dump.
// - Debug mode also warns when one step of a task holds the loop longer than
//   RunOptions::slow_step (default 100 ms), naming the task and where the step began and
//   ended, and lists tasks still pending when the main task returns.
// - Failures nobody retrieved are reported in every mode.
#pragma once

#include <string>

namespace eddy {

std::string dump_tasks();

}  // namespace eddy
