#include "cli/registry_flags.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <set>

#include "cli/command.h"
#include "common/local_file.h"
#include "mirror/credentials.h"

namespace ferry::cli {
namespace {

std::string EnvName(const std::string& prefix, const std::string& what) {
  std::string name = "FERRY_";
  for (char c : prefix) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name + "_" + what;
}

std::optional<std::string> Env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// "text" without one trailing "\n" or "\r\n" (what `echo` and editors add).
std::string WithoutTrailingNewline(std::string text) {
  if (text.ends_with('\n')) text.pop_back();
  if (text.ends_with('\r')) text.pop_back();
  return text;
}

// The password on standard input, read once per process whoever asks.
Result<std::string> PasswordFromStandardInput(const std::string& flag) {
  static std::mutex mutex;
  static std::optional<Result<std::string>> read;
  std::lock_guard<std::mutex> lock(mutex);
  FERRY_RETURN_IF_ERROR(ClaimStandardInput(flag));  // one flag only: --src-* and --dest-* cannot share it
  if (!read) {
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(STDIN_FILENO, buffer, sizeof buffer)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        read = IoError(flag + ": cannot read standard input");
        break;
      }
      text.append(buffer, static_cast<size_t>(n));
      if (text.size() > 64 << 10) {
        read = InvalidArgument(flag + ": standard input holds more than a password (over 64 KiB)");
        break;
      }
    }
    if (!read) {
      text = WithoutTrailingNewline(std::move(text));
      if (text.empty()) read = InvalidArgument(flag + ": no password on standard input");
      else read = std::move(text);
    }
  }
  return *read;
}

// Prints, once per flag, that a password on the command line is not private.
void WarnPasswordOnCommandLine(const RegistryFlags& flags) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mutex);
  if (!warned.insert(flags.prefix).second) return;
  const std::string& p = flags.prefix;
  std::fprintf(stderr,
               "ferry: warning: --%s-creds USER:PASS shows the password to every local user (ps, /proc); "
               "prefer --%s-creds-file FILE, --%s-creds USER --%s-password-stdin, or %s\n",
               p.c_str(), p.c_str(), p.c_str(), p.c_str(), EnvName(p, "PASSWORD").c_str());
}

// The credential the flags and FERRY_* variables give; nullopt: none (the docker config decides).
Result<std::optional<Credential>> CredentialFromFlagsOrEnvironment(const RegistryFlags& flags) {
  const std::string creds_flag = "--" + flags.prefix + "-creds";
  const std::string file_flag = creds_flag + "-file";
  const std::string stdin_flag = "--" + flags.prefix + "-password-stdin";
  const std::string user_env = EnvName(flags.prefix, "USERNAME"), password_env = EnvName(flags.prefix, "PASSWORD");
  bool creds_has_password = flags.creds.find(':') != std::string::npos;

  if (!flags.creds_file.empty() && (!flags.creds.empty() || flags.password_stdin))
    return InvalidArgument(file_flag + " holds USER:PASS already; give it without " +
                           (flags.password_stdin ? stdin_flag : creds_flag));
  if (!flags.creds_file.empty()) {
    Result<std::string> text = ReadLocalFile(flags.creds_file);
    if (!text.ok()) return IoError(file_flag + " " + flags.creds_file + ": cannot read it: " + text.status().message());
    std::string first_line = text->substr(0, text->find('\n'));
    if (first_line.ends_with('\r')) first_line.pop_back();
    Result<Credential> credential = ParseUserPass(first_line);
    if (!credential.ok()) return credential.status().WithContext(file_flag + " " + flags.creds_file);
    return std::optional<Credential>(*credential);
  }
  if (flags.password_stdin) {
    if (creds_has_password)
      return InvalidArgument(creds_flag + " gives a password and " + stdin_flag + " another; give " + creds_flag +
                             " USER only");
    std::string user = flags.creds.empty() ? Env(user_env).value_or("") : flags.creds;
    if (user.empty())
      return InvalidArgument(stdin_flag + " reads the password; say whose with " + creds_flag + " USER or " + user_env);
    Result<std::string> password = PasswordFromStandardInput(stdin_flag);
    if (!password.ok()) return password.status();
    return std::optional<Credential>(Credential{.username = user, .password = *password});
  }
  if (!flags.creds.empty()) {
    if (!creds_has_password)
      return InvalidArgument(creds_flag + " " + flags.creds + ": give USER:PASS, or USER with " + stdin_flag);
    Result<Credential> credential = ParseUserPass(flags.creds);
    if (!credential.ok()) return credential.status().WithContext(creds_flag);
    WarnPasswordOnCommandLine(flags);
    return std::optional<Credential>(*credential);
  }
  std::optional<std::string> user = Env(user_env), password = Env(password_env);
  if (user && password) return std::optional<Credential>(Credential{.username = *user, .password = *password});
  if (password) return InvalidArgument(password_env + " is set but " + user_env + " is not: say whose password it is");
  if (user) return InvalidArgument(user_env + " is set but " + password_env + " is not (or pass " + stdin_flag + ")");
  return std::optional<Credential>();
}

}  // namespace

void AddRegistryCredentialFlags(CLI::App* command, RegistryFlags* flags, const std::string& role) {
  const std::string& p = flags->prefix;
  command->add_option("--" + p + "-creds", flags->creds,
                      "USER:PASS for the " + role + " registry, or USER with --" + p +
                          "-password-stdin (default: " + EnvName(p, "USERNAME") + "/" + EnvName(p, "PASSWORD") +
                          ", else the docker configuration)");
  command->add_option("--" + p + "-creds-file", flags->creds_file,
                      "File whose first line is USER:PASS for the " + role + " registry");
  command->add_flag("--" + p + "-password-stdin", flags->password_stdin,
                    "Read the " + role + " registry's password from standard input");
}

void AddRegistryFlags(CLI::App* command, RegistryFlags* flags, const std::string& role) {
  const std::string& p = flags->prefix;
  AddRegistryCredentialFlags(command, flags, role);
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
  Result<std::optional<Credential>> given = CredentialFromFlagsOrEnvironment(flags);
  if (!given.ok()) return given.status();
  if (given->has_value()) {
    options.credential = **given;
    return options;
  }
  Result<DockerConfig> config = DockerConfig::LoadDefault();
  if (!config.ok()) return config.status();
  Result<std::optional<Credential>> cred = config->Lookup(ref.registry);
  if (!cred.ok()) return cred.status();
  if (cred->has_value()) options.credential = **cred;
  return options;
}

RegistryPool::OptionsFor CopyRegistryOptions(const RegistryFlags* src, const RegistryFlags* dest) {
  return [src, dest](const ImageReference& ref, bool push) -> Result<RegistryOptions> {
    const RegistryFlags* flags = push ? dest : src;
    if (!flags) return Internal("no " + std::string(push ? "destination" : "source") + " registry flags");
    Result<RegistryOptions> options = MakeRegistryOptions(*flags, ref, push);
    if (options.ok()) options->retry.max_attempts = 1;
    return options;
  };
}

}  // namespace ferry::cli
