#include "cli/mirror_progress.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

namespace ferry::cli {

std::string HumanBytes(int64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) value /= 1000, ++unit;
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

MirrorProgress::Mode MirrorProgress::ModeFor(bool json) {
  return json ? Mode::kJson : isatty(STDERR_FILENO) ? Mode::kTerminal : Mode::kLines;
}

MirrorProgress::MirrorProgress(Mode mode, Style style) : mode_(mode), style_(std::move(style)) {
  if (mode_ != Mode::kTerminal) return;
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_.wait_for(lock, std::chrono::milliseconds(250), [&] { return stopping_; })) Redraw(false);
  });
}

MirrorProgress::~MirrorProgress() { Stop(); }

void MirrorProgress::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  if (mode_ == Mode::kTerminal) Redraw(true);
}

// Called with mutex_ held.
void MirrorProgress::Redraw(bool final) {
  std::string out;
  if (drawn_lines_ > 0) out += "\x1b[" + std::to_string(drawn_lines_) + "A\x1b[J";
  drawn_lines_ = 0;
  if (!final) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double rate = seconds > 0 ? bytes_done_ / seconds : 0;
    std::string eta = "--";
    if (rate > 0 && bytes_total_ > bytes_done_) {
      int left = static_cast<int>((bytes_total_ - bytes_done_) / rate);
      eta = std::to_string(left / 60) + "m" + std::to_string(left % 60) + "s";
    }
    char line[256];
    std::snprintf(line, sizeof line, "%s / %s  %s/s  ETA %s  images %d/%d done%s\n", HumanBytes(bytes_done_).c_str(),
                  HumanBytes(bytes_total_).c_str(), HumanBytes(static_cast<int64_t>(rate)).c_str(), eta.c_str(),
                  images_done_, images_total_,
                  images_failed_ ? (", " + std::to_string(images_failed_) + " failed").c_str() : "");
    out += line;
    ++drawn_lines_;
    int shown = 0;
    for (const auto& [image, bytes] : active_) {
      if (++shown > 8) break;
      out += "  " + image + "  " + HumanBytes(bytes) + "\n";
      ++drawn_lines_;
    }
  }
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
}

void MirrorProgress::EmitJson(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

void MirrorProgress::OnBlobPlanned(const Descriptor& blob) {
  std::lock_guard<std::mutex> lock(mutex_);
  bytes_total_ += blob.size;
}

void MirrorProgress::OnImageResolved(const ImageResult& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++images_total_;
  if (mode_ == Mode::kJson)
    EmitJson(nlohmann::json{{"event", "resolved"},
                            {"source", result.image.name},
                            {"digest", result.digest},
                            {"present", result.already_present}}
                 .dump());
}

void MirrorProgress::OnBlobStarted(const std::string& image, const Descriptor& /*blob*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  active_.try_emplace(image, 0);
}

void MirrorProgress::OnBytes(const std::string& image, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  bytes_done_ += static_cast<int64_t>(bytes);
  active_[image] += static_cast<int64_t>(bytes);
}

void MirrorProgress::OnBlobDone(const Descriptor& blob, BlobAction action) {
  std::lock_guard<std::mutex> lock(mutex_);
  // The first outcome for a blob says whether it streams; the others are mounts from there.
  if (settled_.insert(blob.digest).second && action != BlobAction::kCopied) bytes_total_ -= blob.size;
  if (mode_ == Mode::kJson) {
    const char* names[] = {"skipped", "mounted", "copied"};
    EmitJson(nlohmann::json{{"event", "blob"}, {"digest", blob.digest}, {"size", blob.size},
                            {"action", names[static_cast<int>(action)]}}
                 .dump());
  }
}

void MirrorProgress::OnImageDone(const ImageResult& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++images_done_;
  if (!result.status.ok()) ++images_failed_;
  active_.erase(result.image.name);
  if (style_.dry_run && result.status.ok()) return;
  const std::string& source = result.image.name;
  std::string target = result.image.to.String();
  if (mode_ == Mode::kJson) {
    nlohmann::json event{{"event", "image"}, {"source", source}, {"target", target}, {"digest", result.digest}};
    event["status"] = !result.status.ok() ? "failed" : result.already_present ? "present" : "copied";
    if (!result.status.ok()) event["error"] = result.status.message();
    EmitJson(event.dump());
    return;
  }
  std::string done = style_.done + std::string(style_.done.size() < 8 ? 8 - style_.done.size() : 1, ' ');
  std::string line = !result.status.ok()       ? "failed  " + source + ": " + result.status.message()
                     : result.already_present ? "present " + source + (style_.show_target ? " -> " + target : "")
                     : style_.show_target     ? done + source + " -> " + target + "@" + result.digest
                                              : done + source + "@" + result.digest;
  if (mode_ == Mode::kTerminal) {
    Redraw(true);  // print above the live area
    std::fprintf(stderr, "%s\n", line.c_str());
  } else {
    std::fprintf(style_.lines, "%s\n", line.c_str());
    std::fflush(style_.lines);
  }
}

}  // namespace ferry::cli
