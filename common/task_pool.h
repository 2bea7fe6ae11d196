// A fixed set of worker threads running queued tasks; Wait() blocks until every task, including
// tasks queued by tasks, has finished. Tasks must not throw.
#pragma once

#include <condition_variable>
#include <algorithm>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ferry {

class TaskPool {
 public:
  explicit TaskPool(int threads);
  ~TaskPool();  // waits for queued tasks, then joins
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  void Post(std::function<void()> task);
  void Wait();

 private:
  void Work();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> queue_;
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Limits how many holders may be inside at once (e.g. connections to one registry).
class Gate {
 public:
  explicit Gate(int capacity) : free_(capacity) {}
  void Enter();
  void Leave();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int free_;
};

}  // namespace ferry
