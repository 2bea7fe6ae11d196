#include "selftest/load_generator.h"

#include <algorithm>
#include <memory>

#include "selftest/load_curl.h"
#include "selftest/load_loop.h"
#include "selftest/load_request.h"
#include "selftest/load_socket.h"

namespace ferry::selftest {

void PhaseStats::Record(uint64_t micros) {
  min_micros = count ? std::min(min_micros, micros) : micros;
  max_micros = std::max(max_micros, micros);
  sum_micros += micros;
  ++count;
}

uint64_t LoadResult::error_count() const {
  uint64_t n = 0;
  for (const auto& [message, count] : errors) n += count;
  return n;
}

Result<LoadResult> RunLoad(const LoadOptions& options) {
  Result<LoadRequest> request = LoadRequest::Make(options);
  if (!request.ok()) return request.status();
  LoadLoop loop(options);
  FERRY_RETURN_IF_ERROR(loop.Init());
  // Declared after the loop, so it is destroyed first: its sockets leave the loop's epoll set.
  Result<std::unique_ptr<LoadTransport>> transport =
      request->tls() ? MakeCurlTransport(options, *request, loop.epoll_fd(), loop.worker_count(), &loop)
                     : MakeSocketTransport(options, *request, loop.epoll_fd(), loop.worker_count(), &loop);
  if (!transport.ok()) return transport.status();
  return loop.Run(**transport);
}

}  // namespace ferry::selftest
