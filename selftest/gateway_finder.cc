// Finds the ingress gateway's address from its Service: LoadBalancer, NodePort, or --gateway.
#include "selftest/gateway_finder.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <utility>
#include <vector>

namespace ferry::selftest {
namespace {

using nlohmann::json;

// The data plane in ferry's Kubernetes emulator cannot bind port 80 as a normal user, so it writes
// the port its gateway really listens on into this annotation. Real clusters never set it.
constexpr const char* kEmulatorPortAnnotation = "ferry.test/gateway-port";

const std::vector<std::pair<std::string, std::string>> kGatewayServices = {
    {"kourier-system", "kourier"}, {"istio-system", "istio-ingressgateway"}};

// The Service port that carries plain HTTP: port 80, else one named http/http2, else the first.
std::optional<json> HttpPort(const json& service) {
  const json ports = service.value("spec", json::object()).value("ports", json::array());
  for (const json& p : ports)
    if (p.value("port", 0) == 80) return p;
  for (const json& p : ports)
    if (p.value("name", "") == "http" || p.value("name", "") == "http2") return p;
  if (ports.empty()) return std::nullopt;
  return ports[0];
}

std::string LoadBalancerAddress(const json& service) {
  const json ingress = service.value("status", json::object())
                           .value("loadBalancer", json::object())
                           .value("ingress", json::array());
  if (ingress.empty()) return "";
  std::string host = ingress[0].value("ip", "");
  if (host.empty()) host = ingress[0].value("hostname", "");
  if (host.empty()) return "";
  std::string port = "80";
  const json annotations = service.value("metadata", json::object()).value("annotations", json::object());
  if (annotations.contains(kEmulatorPortAnnotation)) port = annotations[kEmulatorPortAnnotation].get<std::string>();
  else if (std::optional<json> p = HttpPort(service)) port = std::to_string(p->value("port", 80));
  return host + ":" + port;
}

// A node's ExternalIP, else its InternalIP, for the first node that has one.
std::string NodeAddress(installer::KubeClient& client) {
  installer::KubeResult<installer::ResourceRef> nodes_ref = client.Resolve("v1", "Node");
  if (!nodes_ref.ok()) return "";
  installer::KubeResult<json> nodes = client.List(*nodes_ref, "");
  if (!nodes.ok()) return "";
  for (const char* type : {"ExternalIP", "InternalIP"})
    for (const json& node : nodes->value("items", json::array()))
      for (const json& a : node.value("status", json::object()).value("addresses", json::array()))
        if (a.value("type", "") == type && !a.value("address", "").empty()) return a["address"].get<std::string>();
  return "";
}

}  // namespace

Result<ReportGateway> FindGateway(installer::KubeClient& client, const std::string& override_address) {
  if (!override_address.empty()) return ReportGateway{override_address, "--gateway"};
  installer::KubeResult<installer::ResourceRef> ref = client.Resolve("v1", "Service");
  if (!ref.ok()) return ref.status();
  std::vector<std::string> tried;
  for (const auto& [ns, name] : kGatewayServices) {
    installer::KubeResult<json> service = client.Get(*ref, ns, name);
    tried.push_back(ns + "/" + name);
    if (!service.ok()) continue;
    if (std::string address = LoadBalancerAddress(*service); !address.empty())
      return ReportGateway{address, "LoadBalancer of " + ns + "/" + name};
    std::optional<json> port = HttpPort(*service);
    if (!port || !port->contains("nodePort")) continue;
    if (std::string node = NodeAddress(client); !node.empty()) {
      std::string node_port = std::to_string((*port)["nodePort"].get<int>());
      return ReportGateway{node + ":" + node_port, "NodePort " + node_port + " of " + ns + "/" + name +
                                                      " on node address " + node};
    }
  }
  std::string list;
  for (const std::string& t : tried) list += (list.empty() ? "" : ", ") + t;
  return NotFound("no gateway address: neither " + list +
                  " has a LoadBalancer ingress or a NodePort on a node address; give one with --gateway HOST:PORT");
}

}  // namespace ferry::selftest
