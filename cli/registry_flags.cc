#include "cli/registry_flags.h"

#include <unistd.h>

#include "mirror/credentials.h"

namespace ferry::cli {

void AddRegistryFlags(CLI::App* command, RegistryFlags* flags, const std::string& role) {
  const std::string& p = flags->prefix;
  command->add_option("--" + p + "-creds", flags->creds,
                      "USER:PASS for the " + role + " registry (default: the docker configuration)");
  command->add_option("--" + p + "-ca-cert", flags->ca_cert, "PEM file of the CA that signed the " + role +
                                                                   " registry's certificate");
  command->add_flag("--" + p + "-tls-verify{true}", flags->tls_verify,
                    "Verify the " + role + " registry's certificate (default true; =false to skip)");
  command->add_flag("--" + p + "-plain-http", flags->plain_http,
                    "Talk plain HTTP to the " + role + " registry (implicit for loopback hosts)");
}

Result<RegistryOptions> MakeRegistryOptions(const RegistryFlags& flags, const ImageReference& ref, bool push) {
  RegistryOptions options;
  options.flag_prefix = flags.prefix;
  options.push = push;
  options.plain_http = flags.plain_http;
  options.tls.verify = flags.tls_verify;
  if (!flags.ca_cert.empty()) {
    if (access(flags.ca_cert.c_str(), R_OK) != 0)
      return InvalidArgument("--" + flags.prefix + "-ca-cert " + flags.ca_cert + ": cannot read the file");
    options.tls.ca_file = flags.ca_cert;
  }
  if (!flags.creds.empty()) {
    Result<Credential> cred = ParseUserPass(flags.creds);
    if (!cred.ok()) return cred.status().WithContext("--" + flags.prefix + "-creds");
    options.credential = *cred;
    return options;
  }
  Result<DockerConfig> config = DockerConfig::LoadDefault();
  if (!config.ok()) return config.status();
  Result<std::optional<Credential>> cred = config->Lookup(ref.registry);
  if (!cred.ok()) return cred.status();
  if (cred->has_value()) options.credential = **cred;
  return options;
}

}  // namespace ferry::cli
