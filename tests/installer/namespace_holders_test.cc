// What keeps a namespace from going away, said in one line: the pods counted, the first four named.
#include <catch2/catch.hpp>

#include "common/log.h"
#include "installer/namespace_holders.h"

using namespace ferry::installer;

TEST_CASE("the pods holding a namespace are counted and the first four named", "[namespace_holders]") {
  NamespaceHolders holders{.exists = true};
  holders.pods.push_back({.name = "activator-1", .terminating = true, .grace_seconds = 300, .seconds_left = 120});
  for (int i = 2; i <= 6; ++i) holders.pods.push_back({.name = "pod-" + std::to_string(i)});
  CHECK(DescribeHolders(holders) ==
        "6 pods in it: activator-1 (terminating, grace period 300 s, about 120 s left), pod-2 (grace period 30 s), "
        "pod-3 (grace period 30 s), pod-4 (grace period 30 s) and 2 more");
  ferry::SetLogLevel(ferry::LogLevel::kInfo);  // -v: every pod
  std::string all = DescribeHolders(holders);
  ferry::SetLogLevel(ferry::LogLevel::kWarning);
  CHECK(all.ends_with("pod-5 (grace period 30 s), pod-6 (grace period 30 s)"));
}

TEST_CASE("one pod is said in the singular; no pods leaves the namespace's own conditions", "[namespace_holders]") {
  NamespaceHolders one{.exists = true, .pods = {{.name = "webhook-1"}}};
  CHECK(DescribeHolders(one) == "1 pod in it: webhook-1 (grace period 30 s)");
  NamespaceHolders none{.exists = true, .conditions = "Some content in the namespace has finalizers remaining"};
  CHECK(DescribeHolders(none) == "Some content in the namespace has finalizers remaining");
}
