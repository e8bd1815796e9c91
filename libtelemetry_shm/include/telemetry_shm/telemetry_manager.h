// TelemetryManager: the per-process owner of this process's counter segment.
//
// A service calls start() once at start-up with its service name and
// instance id, and stop() at shutdown:
//
//   telemetry_shm::ManagerOptions options;
//   options.service_name = "ItemService";
//   options.instance_id = "9091";
//   telemetry_shm::TelemetryManager::instance().start(options);
//   ...
//   telemetry_shm::TelemetryManager::instance().stop();
//
// start() creates the segment <directory>/<service>.<instance>.seg, or takes
// over the one a previous process of the same instance left behind, so
// counts continue where they were and the generation grows by one. It holds
// an exclusive flock on the segment for as long as it runs, and a background
// thread refreshes the heartbeat. A second live process for the same
// instance is refused.
//
// Thread safety: every member may be called from any thread. start() and
// stop() serialize with each other; snapshot() may run alongside anything.
#ifndef TELEMETRY_SHM_TELEMETRY_MANAGER_H_
#define TELEMETRY_SHM_TELEMETRY_MANAGER_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "telemetry_shm/snapshot.h"

namespace telemetry_shm {

struct ManagerOptions {
  // Names are 1 to 63 characters of [A-Za-z0-9_-].
  std::string service_name;
  std::string instance_id;

  // Empty means $TELEMETRY_DIR, or /dev/shm/telemetry when that is unset.
  // Created (mode 0700, or 0750 with a group mode) when missing.
  std::string directory;

  // 0600 (owner only) or 0640 (owner, and the file's group may read).
  mode_t mode = 0600;

  std::chrono::milliseconds heartbeat_interval{250};

  // Receives warnings that do not stop counting: the directory is not
  // memory-backed, an unreadable old segment was moved aside. Called from
  // the thread that calls start(). May be empty.
  std::function<void(std::string_view)> warn;
};

class TelemetryManager {
 public:
  // The process's one manager. Never destroyed, so counting threads that
  // outlive main() stay safe.
  static TelemetryManager& instance();

  TelemetryManager(const TelemetryManager&) = delete;
  TelemetryManager& operator=(const TelemetryManager&) = delete;

  // Opens or creates the segment and starts the heartbeat thread.
  // Throws TelemetryError: kInvalidArgument for a bad name, mode or
  // interval, or when already started; kAlreadyRunning when another live
  // process holds this instance's segment; kUnsafeFile when the path is a
  // symlink, not a regular file, or owned by another user; kSystem when a
  // system call fails. On failure nothing is left started.
  void start(const ManagerOptions& options);

  // Publishes every pending count, marks the segment stopped, releases its
  // lock and ends the heartbeat thread. Does nothing when not started.
  // Call it after the threads that count have finished: an increment that
  // races with stop() is kept in process memory, not in the segment.
  void stop();

  bool started() const;

  // This process's counters. After start(), read from the segment (so the
  // totals include earlier processes of this instance); before, the counts
  // kept in process memory, with liveness kStopped and the IDL's names.
  Snapshot snapshot() const;

  // The segment's path, or empty when not started.
  std::string segment_path() const;

 private:
  TelemetryManager();
  ~TelemetryManager();

  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace telemetry_shm

#endif  // TELEMETRY_SHM_TELEMETRY_MANAGER_H_
