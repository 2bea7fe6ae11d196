// The https transport of `ferry load`: libcurl's multi API driven from the load loop's epoll set
// (curl_multi_socket_action), one easy handle per worker. libcurl's connection cache keeps each
// worker's connection (and TLS session) alive between its requests; libcurl also follows
// redirects and enforces -t. Internal to the load generator (selftest/load_generator.cc).
#pragma once

#include <memory>

#include "selftest/load_generator.h"
#include "selftest/load_request.h"
#include "selftest/load_transport.h"

namespace ferry::selftest {

// `options`, `request` and `sink` must outlive the transport; `epoll_fd` is the loop's set.
Result<std::unique_ptr<LoadTransport>> MakeCurlTransport(const LoadOptions& options, const LoadRequest& request,
                                                         int epoll_fd, size_t workers, LoadSink* sink);

}  // namespace ferry::selftest
