// Networking: TCP, Unix and UDP sockets, streams, DNS (include what you use, or this).
#pragma once

#include "eddy/net/address.hpp"
#include "eddy/net/dns.hpp"
#include "eddy/net/error.hpp"
#include "eddy/net/stream.hpp"
#include "eddy/net/tcp.hpp"
#include "eddy/net/tls.hpp"
#include "eddy/net/udp.hpp"
