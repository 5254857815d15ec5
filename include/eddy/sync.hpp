// Synchronisation primitives between the tasks of one loop, with asyncio's names.
#pragma once

#include "eddy/sync/barrier.hpp"
#include "eddy/sync/condition.hpp"
#include "eddy/sync/event.hpp"
#include "eddy/sync/lock.hpp"
#include "eddy/sync/semaphore.hpp"
