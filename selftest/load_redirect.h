// Following a redirect in the plain-HTTP load transport: a Location header, resolved against the
// hop that answered, must stay on the run's scheme, host and port; only then is it followed, on
// the same kind of connection. A redirect elsewhere is a failed request (the load is aimed at one
// server). Internal to the load generator (selftest/load_socket.cc).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "selftest/load_request.h"

namespace ferry::selftest {

// The most hops a request follows, as Go's client (and so hey).
constexpr int kMaxRedirects = 10;

// Resolves `location` (absolute, scheme-relative or relative) against `current_path` (path and
// query of the hop that answered) on `request`'s origin. Returns the path and query to request
// next; a non-OK Status's message is the reason it is not followed, without the Location's path
// or query (they may carry tokens).
Result<std::string> SameOriginRedirect(const LoadRequest& request, std::string_view current_path,
                                       const std::string& location);

}  // namespace ferry::selftest
