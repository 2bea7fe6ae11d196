// A TCP relay on a free loopback port that forwards every connection to a target port, and can cut
// all of them at once: how a test breaks a long-lived watch in the middle of its stream (TLS
// passes through untouched, so the client still talks to the real server).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ferry::testing {

class TcpRelay {
 public:
  explicit TcpRelay(int target_port) : target_port_(target_port) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener_, 16) != 0)
      throw std::runtime_error("relay: cannot listen");
    socklen_t len = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~TcpRelay() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    CutAll();
    acceptor_.join();
    std::vector<std::thread> pumps;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pumps.swap(pumps_);
    }
    for (auto& t : pumps) t.join();
  }

  int port() const { return port_; }
  int connections() const { return connections_; }

  // Breaks every open connection (both directions), as a dying load balancer would.
  void CutAll() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int fd : open_) shutdown(fd, SHUT_RDWR);
  }

 private:
  void Accept() {
    while (!stopping_) {
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      int upstream = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(target_port_);
      if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(client);
        close(upstream);
        continue;
      }
      ++connections_;
      std::lock_guard<std::mutex> lock(mutex_);
      open_.push_back(client);
      open_.push_back(upstream);
      pumps_.emplace_back([this, client, upstream] { Pump(client, upstream); });
    }
  }

  // Copies bytes both ways until either side closes, then closes both.
  void Pump(int a, int b) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    char buffer[16384];
    while (poll(fds, 2, -1) > 0) {
      bool done = false;
      for (int i = 0; i < 2; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
        if (n <= 0 || send(fds[1 - i].fd, buffer, n, MSG_NOSIGNAL) != n) done = true;  // no SIGPIPE on a cut peer
      }
      if (done) break;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    std::erase(open_, a);
    std::erase(open_, b);
    close(a);
    close(b);
  }

  int target_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<int> open_;
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

}  // namespace ferry::testing
