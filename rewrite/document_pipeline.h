// Finds the images of a YAML stream's documents on several threads, handing the results back in
// the stream's order. Documents are independent (a "---" at column 0 cannot occur inside a
// scalar, so rewrite/yaml_stream.h splits them without parsing), so a stream of many documents
// parses about as many times faster as there are cores.
//
// Memory stays bounded: the caller's thread reads and splits the stream, and waits when a few
// documents per worker are in flight, so at most that many documents are held at once.
#pragma once

#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "common/status.h"
#include "rewrite/image_finder.h"
#include "rewrite/yaml_stream.h"

namespace ferry {

// Called on the caller's thread for every document, in the stream's order, with what FindImages
// found in it (ordered by offset; the callee may take them).
using FoundDocumentFn = std::function<Status(const YamlDocument&, std::vector<ImageOccurrence>&)>;

// How many worker threads FindImagesInStream uses by default: the cores this process may run on,
// at most 4.
int DefaultFinderThreads();

// Splits `in` into documents and runs FindImages(doc, name) on each on `threads` workers (1: on
// the caller's thread, no threads started). Stops at the first error in stream order (the one a
// sequential scan would report): from reading `in`, from FindImages, or from `each`; later
// documents still being parsed are dropped.
Status FindImagesInStream(std::istream& in, const std::string& name, const FoundDocumentFn& each,
                          int threads = DefaultFinderThreads());

}  // namespace ferry
