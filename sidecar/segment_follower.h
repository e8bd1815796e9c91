// SegmentFollower: keeps track of the counter segments in one directory and
// publishes what it found as a HostView.
//
// Each scan lists the directory and, for every segment file:
//   - opens a new one, or logs once why it was refused (half-built,
//     corrupt, foreign owner, ...) and tries again on the next scan;
//   - re-reads a known one, reopening it when the file was replaced; a
//     replacement built anew (another creation time) starts from zero, so
//     the old file's final counts move to the service's retired counts;
//   - removes a segment whose writer has been gone longer than the
//     retention, after moving its final counts to the retired counts. A
//     file the system refuses to remove is no longer served (its counts are
//     retired) and is removed on a later scan, once the system lets it.
// A known segment whose file disappeared also has its counts retired. The
// retired counts are saved to the state file before any segment is removed,
// so a service's total never goes backwards, also across a restart.
//
// Log lines: a segment found, an instance gone or back, a segment refused
// (once per file and reason), a segment removed or replaced.
//
// Thread safety: scan_once() runs on one thread at a time (the follower's
// own after start()); view() may be called from any thread.
#ifndef SIDECAR_SEGMENT_FOLLOWER_H_
#define SIDECAR_SEGMENT_FOLLOWER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "host_view.h"
#include "retired_state.h"
#include "telemetry_shm/segment_reader.h"

namespace sidecar {

struct FollowerOptions {
  std::string directory;
  std::string state_file;
  telemetry_shm::ReaderOptions reader;
  // How long a segment whose writer is gone is kept before removal.
  std::chrono::milliseconds retention{std::chrono::hours(1)};
  std::chrono::milliseconds scan_interval{100};
  // Removes a segment file: 0, or the errno of the failure. Tests replace
  // it to see what a removal the system refuses does.
  std::function<int(const std::string& path)> remove_file = unlink_file;

  static int unlink_file(const std::string& path);
};

class SegmentFollower {
 public:
  // Called on the scanning thread, once per service name, when a service
  // first appears in a published view.
  using NewServiceCallback = std::function<void(const std::string&)>;

  // Loads the retired counts from the state file. Throws StateFileError
  // when the state file exists but cannot be read or is malformed.
  SegmentFollower(FollowerOptions options,
                  std::shared_ptr<spdlog::logger> logger,
                  NewServiceCallback on_new_service = {});
  ~SegmentFollower();

  SegmentFollower(const SegmentFollower&) = delete;
  SegmentFollower& operator=(const SegmentFollower&) = delete;

  // One scan of the directory, then a new view is published.
  void scan_once();

  // Scans every scan_interval on a thread of its own until stop().
  void start();
  void stop();

  std::shared_ptr<const HostView> view() const { return holder_.get(); }

 private:
  struct Tracked {
    std::shared_ptr<const telemetry_shm::SegmentReader> reader;
    telemetry_shm::Snapshot last_good;
    bool alive = false;
  };
  struct Opened {
    std::shared_ptr<const telemetry_shm::SegmentReader> reader;
    telemetry_shm::Snapshot snapshot;
  };

  void follow(const telemetry_shm::SegmentEntry& entry);
  void adopt(const telemetry_shm::SegmentEntry& entry);
  void refresh(const telemetry_shm::SegmentEntry& entry, Tracked& tracked);
  void replace(const telemetry_shm::SegmentEntry& entry, Tracked& tracked);
  std::optional<Opened> try_open(const telemetry_shm::SegmentEntry& entry);
  void reject(const std::string& path, const std::string& reason,
              bool not_ready);
  void note_liveness(Tracked& tracked);
  void forget_vanished(const std::set<std::string>& listed);
  void retire_expired();
  bool remove_segment(const std::string& path, const Tracked& tracked);
  // Removes the file of a segment whose counts are retired; false, logged
  // once per path and reason, when the system refuses.
  bool remove_retired_file(const std::string& path);
  // For a segment whose removal was cut short. Returns false when a writer
  // has taken it over and it is to be followed again.
  bool finish_removal(const std::string& path, const Opened& opened,
                      const SegmentId& id);
  void forget_removal(const SegmentId& id);
  void forget_removals_replaced_by(const SegmentId& id);
  // Takes `noted` out of the retired counts; false once that is saved.
  bool take_back(const std::string& path, const SegmentId& id,
                 const Counters& noted);
  bool retire_counts(const telemetry_shm::Snapshot& final_counts,
                     const std::optional<SegmentId>& removing);
  bool save_state(const RetiredState& state);
  void drop_stale_removals();
  void publish();
  void run();

  FollowerOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  NewServiceCallback on_new_service_;

  std::map<std::string, Tracked> tracked_;      // by segment path
  std::map<std::string, std::string> refused_;  // path -> last reason logged
  std::map<std::string, std::string> unremovable_;  // path -> last error
  std::optional<std::string> directory_error_;
  std::optional<std::string> state_error_;  // last state file error logged
  std::set<std::string> known_services_;
  RetiredState retired_;
  ViewHolder holder_;

  std::mutex run_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sidecar

#endif  // SIDECAR_SEGMENT_FOLLOWER_H_
