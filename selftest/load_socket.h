// The plain-HTTP transport of `ferry load`, built for speed as wrk is: each worker owns one
// non-blocking TCP connection (TCP_NODELAY) kept alive between its requests, registered once with
// the loop's epoll set for reading (writability is watched only while connecting or after a
// short write). The request bytes are built once per run and written with one send(); answers are
// parsed by http_parser out of one shared read buffer (selftest/load_response.h). The name is
// resolved once before the run.
//
// Per request: a reused connection the server had closed (EOF or reset before any byte of the
// answer) is retried once on a new connection, as libcurl and Go do; redirects on the same
// origin are followed up to kMaxRedirects hops (load_redirect.h); -t is checked in O(1) per loop
// turn against the oldest request in flight (load_deadlines.h), and a request that runs out
// closes its connection. Internal to the load generator.
#pragma once

#include <memory>

#include "selftest/load_generator.h"
#include "selftest/load_request.h"
#include "selftest/load_transport.h"

namespace ferry::selftest {

// `options`, `request` (an http:// one) and `sink` must outlive the transport; `epoll_fd` is the
// loop's set. Resolves the request's host now: a name that does not resolve fails each request.
Result<std::unique_ptr<LoadTransport>> MakeSocketTransport(const LoadOptions& options, const LoadRequest& request,
                                                           int epoll_fd, size_t workers, LoadSink* sink);

}  // namespace ferry::selftest
