#include <catch2/catch.hpp>

#include "installer/cluster_config.h"

TEST_CASE("a cluster config defaults to the default namespace") {
  ferry::installer::ClusterConfig config;
  CHECK(config.namespace_name == "default");
}
