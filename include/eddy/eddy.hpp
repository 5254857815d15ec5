// eddy: asyncio, aiohttp, asyncpg and redis-py for C++20. This header brings in the core.
#pragma once

#include "eddy/cancel.hpp"
#include "eddy/debug.hpp"
#include "eddy/error.hpp"
#include "eddy/executor.hpp"
#include "eddy/gather.hpp"
#include "eddy/generator.hpp"
#include "eddy/group.hpp"
#include "eddy/io.hpp"
#include "eddy/net.hpp"
#include "eddy/queue.hpp"
#include "eddy/retry.hpp"
#include "eddy/runtime.hpp"
#include "eddy/signal.hpp"
#include "eddy/sync.hpp"
#include "eddy/task.hpp"
#include "eddy/time.hpp"
