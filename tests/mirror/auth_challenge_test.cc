#include "mirror/auth_challenge.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

namespace ferry {
namespace {

using Params = std::map<std::string, std::string>;

struct Case {
  std::string name;
  std::string header;
  std::vector<AuthChallenge> want;
};

// One line per challenge, so a failure shows what was parsed.
std::string Describe(const std::vector<AuthChallenge>& challenges) {
  std::string out;
  for (const auto& c : challenges) {
    out += c.scheme + " {";
    for (const auto& [k, v] : c.params) out += " " + k + "=[" + v + "]";
    out += " }\n";
  }
  return out;
}

const std::vector<Case> kRealHeaders = {
    {"gcr.io",
     R"(Bearer realm="https://gcr.io/v2/token",service="gcr.io",scope="repository:knative-releases/knative.dev/serving/cmd/controller:pull")",
     {{"bearer",
       Params{{"realm", "https://gcr.io/v2/token"},
              {"service", "gcr.io"},
              {"scope", "repository:knative-releases/knative.dev/serving/cmd/controller:pull"}}}}},
    {"Docker Hub",
     R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")",
     {{"bearer", Params{{"realm", "https://auth.docker.io/token"},
                        {"service", "registry.docker.io"},
                        {"scope", "repository:library/alpine:pull"}}}}},
    {"Alibaba ACR",
     R"(Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842",scope="repository:a/b:pull")",
     {{"bearer", Params{{"realm", "https://dockerauth.cn-hangzhou.aliyuncs.com/auth"},
                        {"service", "registry.aliyuncs.com:cn-hangzhou:26842"},
                        {"scope", "repository:a/b:pull"}}}}},
    {"Azure ACR without scope",
     R"(Bearer realm="https://example.azurecr.io/oauth2/token",service="example.azurecr.io")",
     {{"bearer", Params{{"realm", "https://example.azurecr.io/oauth2/token"},
                        {"service", "example.azurecr.io"}}}}},
    {"Harbor",
     R"(Bearer realm="https://harbor.example.com/service/token",service="harbor-registry",scope="repository:library/nginx:pull,push")",
     {{"bearer", Params{{"realm", "https://harbor.example.com/service/token"},
                        {"service", "harbor-registry"},
                        {"scope", "repository:library/nginx:pull,push"}}}}},
    {"Amazon ECR",
     R"(Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com")",
     {{"basic", Params{{"realm", "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/"},
                       {"service", "ecr.amazonaws.com"}}}}},
    {"CNCF registry, htpasswd",
     R"(Basic realm="basic-realm")",
     {{"basic", Params{{"realm", "basic-realm"}}}}},
    {"CNCF registry, token, insufficient scope",
     R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:x:pull,push",error="insufficient_scope")",
     {{"bearer", Params{{"realm", "https://auth.example.com/token"},
                        {"service", "registry.example.com"},
                        {"scope", "repository:x:pull,push"},
                        {"error", "insufficient_scope"}}}}},
};

const std::vector<Case> kSyntax = {
    {"several challenges in one header",
     R"(Basic realm="a", Bearer realm="b",service="c")",
     {{"basic", Params{{"realm", "a"}}}, {"bearer", Params{{"realm", "b"}, {"service", "c"}}}}},
    {"RFC 7235 example with escaped quotes",
     R"(Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple")",
     {{"newauth", Params{{"realm", "apps"}, {"type", "1"}, {"title", R"(Login to "apps")"}}},
      {"basic", Params{{"realm", "simple"}}}}},
    {"quoted comma and escaped backslash",
     R"(Bearer scope="repository:a/b:pull,push",realm="c:\\d")",
     {{"bearer", Params{{"scope", "repository:a/b:pull,push"}, {"realm", R"(c:\d)"}}}}},
    {"scheme and keys are case-insensitive, values are not",
     R"(BEARER Realm="HTTPS://X/Token",SERVICE=Reg)",
     {{"bearer", Params{{"realm", "HTTPS://X/Token"}, {"service", "Reg"}}}}},
    {"unquoted token values",
     "Bearer realm=https://auth.example.com/token,service=registry,scope=repository:a/b:pull",
     {{"bearer", Params{{"realm", "https://auth.example.com/token"},
                        {"service", "registry"},
                        {"scope", "repository:a/b:pull"}}}}},
    {"extra whitespace everywhere",
     "  \tBearer   realm = \"r\" ,  service\t=\"s\"  ,,  Basic  realm=\"b\"  ",
     {{"bearer", Params{{"realm", "r"}, {"service", "s"}}}, {"basic", Params{{"realm", "b"}}}}},
    {"scheme without parameters", "Basic", {{"basic", {}}}},
    {"schemes without parameters in a list", "Negotiate, Basic realm=\"x\"",
     {{"negotiate", {}}, {"basic", Params{{"realm", "x"}}}}},
    {"token68 credential is skipped", "Negotiate YIIabc+/==, Basic realm=\"x\"",
     {{"negotiate", {}}, {"basic", Params{{"realm", "x"}}}}},
    {"empty quoted value", R"(Bearer realm="r",error="")",
     {{"bearer", Params{{"realm", "r"}, {"error", ""}}}}},
    {"first of repeated parameters wins", R"(Basic realm="a", realm="b")",
     {{"basic", Params{{"realm", "a"}}}}},
    {"garbage after a complete challenge is dropped", R"(Basic realm="a", "oops")",
     {{"basic", Params{{"realm", "a"}}}}},
};

const std::vector<std::string> kGarbage = {
    "",
    "   ",
    ",,,",
    "=",
    "=====",
    "\"Bearer\"",
    R"(Bearer realm="unterminated)",
    R"(Bearer realm="a" service="b")",
    R"(Bearer realm="a"junk)",
    "Bearer\"x\"",
    "\x01\x02\xff",
    std::string("Basic\0realm=\"a\"", 15),
};

void RunCases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    INFO(c.name << ": " << c.header);
    CHECK(Describe(ParseWwwAuthenticate(c.header)) == Describe(c.want));
  }
}

TEST_CASE("ParseWwwAuthenticate reads the headers real registries send") { RunCases(kRealHeaders); }

TEST_CASE("ParseWwwAuthenticate follows the RFC 7235 grammar leniently") { RunCases(kSyntax); }

TEST_CASE("ParseWwwAuthenticate returns nothing for empty or garbage headers") {
  for (const auto& header : kGarbage) {
    INFO("header: " << header);
    CHECK(ParseWwwAuthenticate(header).empty());
  }
}

}  // namespace
}  // namespace ferry
