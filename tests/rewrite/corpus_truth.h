// Ground truth for the image finder on the real release files (FERRY_CORPUS, default
// ../shared/corpus/manifests): for every file, the distinct images it names, worked out by reading
// the files (grep and a pager), not by running the finder. Shared by the finder's corpus test and
// the rewrite's corpus test.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace ferry {

struct CorpusFile {
  std::string name;
  std::set<std::string> images;    // every distinct reference, normalised (ImageReference::String)
  std::set<std::string> optional;  // the subset found only in commented `_example` blocks
};

inline const std::string kServing06 = "gcr.io/knative-releases/github.com/knative/serving/cmd/";
inline const std::string kBuild = "gcr.io/knative-releases/github.com/knative/build/cmd/";
inline const std::string kEventing06 = "gcr.io/knative-releases/github.com/knative/eventing/cmd/";
inline const std::string kSources06 = "gcr.io/knative-releases/github.com/knative/eventing-sources/cmd/";
inline const std::string kServing123 = "gcr.io/knative-releases/knative.dev/serving/cmd/";
inline const std::string kFluentd = "k8s.gcr.io/fluentd-elasticsearch:v2.0.4";

inline std::string Istio(const std::string& name) { return "docker.io/istio/" + name + ":1.1.3"; }

inline const std::vector<CorpusFile>& GroundTruth() {
  static const std::vector<CorpusFile> files = {
      // Jobs that install the CRDs run istio/kubectl.
      {"istio-1.1.3-crds.yaml", {Istio("kubectl")}, {}},
      {"istio-1.1.3-lean.yaml", {Istio("proxyv2"), Istio("pilot"), Istio("node-agent-k8s")}, {}},
      // proxy_init appears only in the sidecar-injector template text (data.config), proxyv2 there
      // too (in the [[ annotation ... ]] form) and in the gateways' containers.
      {"istio-1.1.3.yaml",
       {Istio("proxy_init"), Istio("proxyv2"), Istio("kubectl"), Istio("galley"),
        Istio("node-agent-k8s"), Istio("mixer"), Istio("pilot"), Istio("citadel"),
        Istio("sidecar_injector")},
       {}},
      // Containers, caching Image objects, and the controller's -creds-image/-git-image/-nop-image
      // flags (same references as the Image objects). gcs-fetcher is neither tagged nor pinned.
      {"knative-build-v0.3.0.yaml",
       {kBuild + "controller@sha256:6c9133810e75c057e6084f5dc65b6c55cb98e42692f45241f8d0023050f27ba9",
        kBuild + "creds-init@sha256:22b3a971c3d1d5529ca16f6b6d168ba03c1f3bcb0744271ff8882374fd3b6fdb",
        kBuild + "git-init@sha256:e6ffa2a922cdea55d51d8648b5b07435d5598ebb6789849c41802de63e7324a9",
        kBuild + "nop@sha256:915db860d1bf101322f35b06e963a1dcc00e9c1beeecfaaef650db4e45364e61",
        kBuild + "webhook@sha256:9074519adf32e1d290a25a54699cf40c42c2313bc881d603cdcf57444ac28a37",
        "gcr.io/cloud-builders/gcs-fetcher"},
       {}},
      {"knative-build-v0.6.0-build.yaml",
       {kBuild + "controller@sha256:6a762848a46786cb481f5870787133e0d5e15615f8d54a5ba50d86b8315a58eb",
        kBuild + "creds-init@sha256:101f537b53b895b28b84ac3c74ede7d250845e24c51c26516873d8ccb23168ce",
        kBuild + "git-init@sha256:ce2c17308e9cb81992be153861c359a0c9e5f69c501a490633c8fe54ec992d53",
        kBuild + "nop@sha256:50e2be042298f24800b9840a9aef831a5fe4d89d9a8edea5e0559cdedf32369d",
        kBuild + "webhook@sha256:8f0bbc50b63f368c9959acab87838c6986691c28d424847459f3526bf97f8a3e",
        "gcr.io/cloud-builders/gcs-fetcher"},
       {}},
      // The manager container, and GH_RA_IMAGE in its env.
      {"knative-eventing-sources-v0.6.0.yaml",
       {kSources06 + "manager@sha256:99cf1f559f74ae97f271632697ed6e78a3fdd88a155632a57341b0dd6eab6581",
        kSources06 + "github_receive_adapter@sha256:"
                     "b5d6e12d16d16c6c42ae3d4325a1ef3a8a129dfc97740aa28000c0867edfc4ff"},
       {}},
      // Five containers; BROKER_INGRESS_IMAGE, BROKER_FILTER_IMAGE, CRONJOB_RA_IMAGE and
      // APISERVER_RA_IMAGE env values; fluentd only in config-observability's _example.
      {"knative-eventing-v0.6.0-release.yaml",
       {kEventing06 + "controller@sha256:85c010633944c06f4c16253108c2338dba271971b2b5f2d877b8247fa19ff5cb",
        kEventing06 + "sources_controller@sha256:aaa48f71a8db1b1dcf86c57d2dd72be1a65ed76d77f23a5abef4b2ad5c01c863",
        kEventing06 + "webhook@sha256:34a7cac96f8c809a7ce8ea0a86445204bbc6ac897525b876f53babb325f50bdc",
        kEventing06 + "in_memory/controller@sha256:496c19e81d9e7e40b3887c7c290304934f54f46c8a9186e800e314c014970c26",
        kEventing06 + "in_memory/dispatcher@sha256:897f03ed16e0000944da9ee0fdc971c43c8a494ff771c4e64d0573caf357c013",
        kEventing06 + "broker/ingress@sha256:a0acbe69420a67bef520e86aceaa237bf540c15882701c96245a6c4e06413bf6",
        kEventing06 + "broker/filter@sha256:b4da7ce7b12aff2355066ed3237aadcf35df3b1c78db83cc538e6cffa564f208",
        kEventing06 + "cronjob_receive_adapter@sha256:6bbb724d5a4dbaaead890ea51d5f84eb9514974a2d06e26c8753db59010987fb",
        kEventing06 + "apiserver_receive_adapter@sha256:7349f83eebe85a3eed7cdc4d442a935deab1ba0c42f34294f219f4ef17b59fec",
        kFluentd},
       {kFluentd}},
      // Containers only; here fluentd runs for real (the fluentd-ds DaemonSet).
      {"knative-serving-v0.6.0-monitoring.yaml",
       {"k8s.gcr.io/elasticsearch:v5.6.4", "docker.io/library/alpine:3.6",
        "docker.elastic.co/kibana/kibana:5.6.4", kFluentd, "quay.io/coreos/kube-rbac-proxy:v0.3.0",
        "quay.io/coreos/kube-state-metrics:v1.3.0", "k8s.gcr.io/addon-resizer:1.7",
        "quay.io/prometheus/node-exporter:v0.15.2", "quay.io/coreos/monitoring-grafana:5.0.3",
        "docker.io/prom/prometheus:v2.2.1", "docker.io/openzipkin/zipkin:latest"},
       {}},
      // Seven containers plus the queue image (Image/queue-proxy and config-deployment's
      // queueSidecarImage); fluentd only in config-observability's _example.
      {"knative-serving-v0.6.0-serving.yaml",
       {kServing06 + "queue@sha256:1e40c99ff5977daa2d69873fff604c6d09651af1f9ff15aadf8849b3ee77ab45",
        kServing06 + "activator@sha256:f553b6cb7599f2f71190ddc93024952e22f2f55e97a3f38519d4d622fc751651",
        kServing06 + "autoscaler@sha256:3a466eaf05cd505338163322331ee8634c601204250fa639360ae3524756acc3",
        kServing06 + "controller@sha256:8f402eab0ada038d3de2ad753a40f9f441715d08058d890537146bb0aba11c8e",
        kServing06 + "networking/certmanager@sha256:dc77db09a23103f64a554de4e01cfda7371cbb13bc0954c991bdc4141169257f",
        kServing06 + "networking/istio@sha256:55fe9eeacfc20d97d3cd4f80bfc8a9b95cff7b5c50121bda87f754da8f05e57b",
        kServing06 + "webhook@sha256:f0f98736bd4b55354f447f59183bf26b9be1ab01691b8b4aeee85caeb1166562",
        kFluentd},
       {kFluentd}},
      {"knative-serving-v1.23.0-serving-core.yaml",
       {kServing123 + "queue@sha256:a3cc71ce80dbc6df8781f15eac2cf3531a4c9815271799afd8776bef9e6aeaf2",
        kServing123 + "activator@sha256:e5ab46f3b73fa2e3898fe47f6a3a0c2bd765596f4fb36ceb4c28c35d0a74b2e5",
        kServing123 + "autoscaler@sha256:879da127b23db65d862cafa6b23fb987381d0e44150f0027d44e1f5aee83bde2",
        kServing123 + "controller@sha256:ca5062ece0329d002a81940cf4268d7898866434d70049bb93f27d3a786d3292",
        kServing123 + "webhook@sha256:3846e9a416665c5b9ec2e4de246cfcb5c4ab0d01ba19348aa008caf30144b650"},
       {}},
      // CRD schemas only: `image` is a schema there, and the descriptions name no image.
      {"knative-serving-v1.23.0-serving-crds.yaml", {}, {}},
      {"knative-serving-v1.23.0-serving-hpa.yaml",
       {kServing123 + "autoscaler-hpa@sha256:e2494132a71c23587ac8dd25bc5288f70261e592285487e1d19f8dea1f896133"},
       {}},
      {"knative-serving-v1.23.0-serving-post-install-jobs.yaml",
       {"gcr.io/knative-releases/knative.dev/pkg/apiextensions/storageversion/cmd/"
        "migrate@sha256:2016f5ede9fb269c7cdf0085ff106844dfa36e42a4d768e0a2f51464928a0c2d",
        "gcr.io/knative-releases/knative.dev/serving/pkg/cleanup/cmd/"
        "cleanup@sha256:78fbd3df14986cd4831a22e7c2703a3b4f58a6e93cacd6ffbf18b3c787af0c71"},
       {}},
      {"net-istio-v1.23.yaml",
       {"gcr.io/knative-releases/knative.dev/net-istio/cmd/"
        "controller@sha256:cf1530d3b625d247114f006e4902ba8c0f2a3196d1d7a6b7acbeb7d7db11d148",
        "gcr.io/knative-releases/knative.dev/net-istio/cmd/"
        "webhook@sha256:ac5c0458f32e353a635919ccd89fe77a7bf650c5354dd76c71e9316eff5de65d"},
       {}},
      {"net-kourier-v1.23.yaml",
       {"gcr.io/knative-releases/knative.dev/net-kourier/cmd/"
        "kourier@sha256:eedfe3938f1efa93230863099f96400a0567909d383a585021f8727fa3a6cf0b",
        "docker.io/envoyproxy/envoy:v1.37-latest"},
       {}},
  };
  return files;
}

}  // namespace ferry
