// What a copy run (`ferry mirror`, `copy`, `bundle save`, `bundle load`) shows while it runs: on a
// terminal, a live status (bytes, rate, ETA, one line per active image) redrawn on stderr;
// otherwise one plain line per finished image; with --output json, one JSON event per line on
// stdout. The one progress model of mirror/copy_engine.h, shown one way for every command.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "mirror/copy_engine.h"

namespace ferry::cli {

class MirrorProgress : public CopyObserver {
 public:
  enum class Mode { kTerminal, kLines, kJson };
  struct Style {
    bool dry_run = false;      // finished images are not announced: the command prints the plan instead
    std::string done = "copied";  // the word for a finished image ("saved", "loaded")
    bool show_target = true;   // "SOURCE -> TARGET@DIGEST", else "SOURCE@DIGEST"
    FILE* lines = stdout;      // where plain lines go
  };
  // kTerminal when stderr is a terminal, else kLines; kJson with --output json.
  static Mode ModeFor(bool json);

  MirrorProgress(Mode mode, Style style);
  ~MirrorProgress() override;  // stops the redraw thread and clears the live area

  void Stop();

  void OnImageResolved(const ImageResult& result) override;
  void OnBlobPlanned(const Descriptor& blob) override;
  void OnBlobStarted(const std::string& image, const Descriptor& blob) override;
  void OnBytes(const std::string& image, size_t bytes) override;
  void OnBlobDone(const Descriptor& blob, BlobAction action) override;
  void OnImageDone(const ImageResult& result) override;

 private:
  void Redraw(bool final);
  void EmitJson(const std::string& line);

  Mode mode_;
  Style style_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread ticker_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  int64_t bytes_total_ = 0, bytes_done_ = 0;
  int images_total_ = 0, images_done_ = 0, images_failed_ = 0;
  std::map<std::string, int64_t> active_;  // image -> bytes streamed so far
  std::set<std::string> settled_;          // blobs with an outcome
  int drawn_lines_ = 0;
};

std::string HumanBytes(int64_t bytes);

}  // namespace ferry::cli
