// The stand-in's two dealings with the API server's side of webhooks: writing its CA into the
// webhook configurations that point at its Service (through the API, from inside the pod), and
// answering AdmissionReviews.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "tests/standin/standin.h"

namespace standin {
namespace {

using nlohmann::json;

constexpr const char* kAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

struct Answer {
  int status = 0;  // 0: no answer (the error says why)
  std::string body, error;
};

// One HTTP/1.0 request (so the body ends with the connection, never chunked) to the API server at
// $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, as in-cluster clients reach it.
Answer Call(const std::string& method, const std::string& path, const std::string& body = "") {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port) return {0, "", "KUBERNETES_SERVICE_HOST/PORT not set"};
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> own_ctx(ctx, SSL_CTX_free);
  if (SSL_CTX_load_verify_locations(ctx, (std::string(kAccountDir) + "ca.crt").c_str(), nullptr) != 1)
    return {0, "", "cannot load the ServiceAccount's ca.crt"};
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
  inet_pton(AF_INET, host, &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {0, "", std::string("connect to ") + host + ":" + port + " failed"};
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set1_host(ssl, host);
  Answer answer;
  if (SSL_connect(ssl) == 1) {
    std::string token = ReadFile(std::string(kAccountDir) + "token");
    std::string request = method + " " + path + " HTTP/1.0\r\nHost: " + host + "\r\nAuthorization: Bearer " + token +
                          "\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
    SSL_write(ssl, request.data(), static_cast<int>(request.size()));
    std::string raw;
    char chunk[16384];
    int got;
    while ((got = SSL_read(ssl, chunk, sizeof chunk)) > 0) raw.append(chunk, static_cast<size_t>(got));
    size_t head_end = raw.find("\r\n\r\n");
    if (raw.starts_with("HTTP/") && head_end != std::string::npos) {
      answer.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
      answer.body = raw.substr(head_end + 4);
    } else {
      answer.error = "no HTTP answer";
    }
  } else {
    answer.error = "TLS with the API server failed";
  }
  SSL_free(ssl);
  close(fd);
  return answer;
}

bool PointsAt(const json& client_config, const std::vector<WebhookService>& services) {
  json service = client_config.value("service", json::object());
  for (const WebhookService& s : services)
    if (service.value("namespace", "") == s.ns && service.value("name", "") == s.name) return true;
  return false;
}

// Sets caBundle in `client_config` when it points at one of `services`; true when it changed.
bool Update(json& client_config, const std::vector<WebhookService>& services, const std::string& bundle) {
  if (!client_config.is_object() || !PointsAt(client_config, services)) return false;
  if (client_config.value("caBundle", "") == bundle) return false;
  client_config["caBundle"] = bundle;
  return true;
}

struct Collection {
  const char* path;  // the List path
  const char* api_version;
  const char* kind;
};

constexpr Collection kCollections[] = {
    {"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", "admissionregistration.k8s.io/v1",
     "ValidatingWebhookConfiguration"},
    {"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", "admissionregistration.k8s.io/v1",
     "MutatingWebhookConfiguration"},
    {"/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "apiextensions.k8s.io/v1",
     "CustomResourceDefinition"},
};

void SyncOnce(const Config& config, const std::string& bundle) {
  for (const Collection& c : kCollections) {
    Answer list = Call("GET", c.path);
    if (list.status != 200) {
      Log(std::string("list ") + c.path + ": " + (list.status ? "HTTP " + std::to_string(list.status) : list.error));
      continue;
    }
    json items = json::parse(list.body, nullptr, false).value("items", json::array());
    for (json& item : items) {
      bool changed = false;
      if (item.contains("webhooks") && item["webhooks"].is_array()) {
        for (json& w : item["webhooks"])
          if (w.contains("clientConfig")) changed |= Update(w["clientConfig"], config.webhooks, bundle);
      }
      json* conversion = item.contains("spec") ? &item["spec"] : nullptr;
      if (conversion && conversion->contains("conversion") && (*conversion)["conversion"].contains("webhook")) {
        json& webhook = (*conversion)["conversion"]["webhook"];
        if (webhook.contains("clientConfig")) changed |= Update(webhook["clientConfig"], config.webhooks, bundle);
      }
      if (!changed) continue;
      // List items of built-in kinds carry no apiVersion/kind; an update needs them.
      item["apiVersion"] = c.api_version;
      item["kind"] = c.kind;
      std::string name = item["metadata"].value("name", "");
      Answer put = Call("PUT", std::string(c.path) + "/" + name, item.dump());
      Log(std::string("caBundle of ") + c.kind + " " + name + ": " +
          (put.status == 200 ? "written" : put.status ? "HTTP " + std::to_string(put.status) : put.error));
    }
  }
}

}  // namespace

void KeepCaBundles(const Config& config) {
  const std::string bundle = Base64(config.tls.ca);
  while (true) {
    SyncOnce(config, bundle);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // a controller's resync, not a wait
  }
}

std::string AdmissionAnswer(const std::string& body) {
  json review = json::parse(body, nullptr, false);
  json request = review.is_object() ? review.value("request", json::object()) : json::object();
  json answer = {{"apiVersion", review.is_object() ? review.value("apiVersion", "admission.k8s.io/v1")
                                                   : "admission.k8s.io/v1"},
                 {"kind", "AdmissionReview"},
                 {"response", {{"uid", request.value("uid", "")}, {"allowed", true}}}};
  return answer.dump();
}

}  // namespace standin
