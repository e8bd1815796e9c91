#include "segment_follower.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "telemetry_shm/error.h"

namespace sidecar {
namespace {

using telemetry_shm::Liveness;
using telemetry_shm::SegmentEntry;
using telemetry_shm::Snapshot;
using telemetry_shm::TelemetryError;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string instance_name(const Snapshot& snapshot) {
  return snapshot.service_name + "/" + snapshot.instance_id;
}

// The last moment the segment's writer was known to run.
int64_t last_sign_of_life_ms(const Snapshot& snapshot) {
  return std::max(snapshot.heartbeat_ms, snapshot.start_time_ms);
}

bool writer_gone(Liveness liveness) {
  return liveness == Liveness::kDead || liveness == Liveness::kStopped;
}

Snapshot final_read(const telemetry_shm::SegmentReader& reader,
                    const Snapshot& fallback) {
  try {
    return reader.snapshot();
  } catch (const TelemetryError&) {
    return fallback;
  }
}

// Holds an open descriptor; closing it also releases any flock on it.
class FileLock {
 public:
  explicit FileLock(const std::string& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) {}
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // True when no writer holds the file: it is ours until destruction.
  bool try_lock() { return fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }

 private:
  int fd_;
};

}  // namespace

int FollowerOptions::unlink_file(const std::string& path) {
  return ::unlink(path.c_str()) == 0 ? 0 : errno;
}

SegmentFollower::SegmentFollower(FollowerOptions options,
                                 std::shared_ptr<spdlog::logger> logger,
                                 NewServiceCallback on_new_service)
    : options_(std::move(options)),
      logger_(std::move(logger)),
      on_new_service_(std::move(on_new_service)),
      retired_(load_retired_state(options_.state_file)) {
  drop_stale_removals();
  publish();
}

SegmentFollower::~SegmentFollower() { stop(); }

void SegmentFollower::scan_once() {
  std::vector<SegmentEntry> entries;
  try {
    entries = telemetry_shm::list_segments(options_.directory);
    directory_error_.reset();
  } catch (const TelemetryError& e) {
    if (directory_error_ != e.what()) {
      logger_->error("cannot list segments: {}", e.what());
      directory_error_ = e.what();
    }
    return;
  }
  std::set<std::string> listed;
  for (const auto& entry : entries) {
    listed.insert(entry.path);
    follow(entry);
  }
  forget_vanished(listed);
  retire_expired();
  publish();
}

void SegmentFollower::follow(const SegmentEntry& entry) {
  auto it = tracked_.find(entry.path);
  if (it == tracked_.end()) {
    adopt(entry);
  } else {
    refresh(entry, it->second);
  }
}

void SegmentFollower::adopt(const SegmentEntry& entry) {
  std::optional<Opened> opened = try_open(entry);
  if (!opened) return;
  const Snapshot& snap = opened->snapshot;
  SegmentId id{snap.service_name, snap.instance_id, snap.created_ms};
  if (retired_.removing.count(id) != 0) {
    if (finish_removal(entry.path, *opened, id)) return;
  } else {
    forget_removals_replaced_by(id);
  }
  const bool alive = telemetry_shm::is_alive(snap.liveness);
  logger_->info("instance found: {} ({}, generation {}, segment {})",
                instance_name(snap), telemetry_shm::to_string(snap.liveness),
                snap.generation, entry.path);
  tracked_[entry.path] = Tracked{opened->reader, snap, alive};
}

void SegmentFollower::refresh(const SegmentEntry& entry, Tracked& tracked) {
  if (tracked.reader->replaced()) {
    replace(entry, tracked);
    return;
  }
  try {
    // The reader re-checks the stored names against the file name too.
    tracked.last_good = tracked.reader->snapshot();
    refused_.erase(entry.path);
  } catch (const TelemetryError& e) {
    reject(entry.path,
           fmt::format("{}; keeping its last good numbers", e.what()), false);
  }
  note_liveness(tracked);
}

void SegmentFollower::replace(const SegmentEntry& entry, Tracked& tracked) {
  std::optional<Opened> opened = try_open(entry);
  if (!opened) return;  // keep the old file's numbers until the new is ready
  const Snapshot old = final_read(*tracked.reader, tracked.last_good);
  if (opened->snapshot.created_ms != old.created_ms) {
    if (!retire_counts(old, std::nullopt)) return;
    logger_->info(
        "segment {} was built anew; the old file's counts are "
        "kept as retired counts of {}",
        entry.path, old.service_name);
  } else {
    logger_->info("segment {} was replaced by a copy; reopened", entry.path);
  }
  tracked.reader = opened->reader;
  tracked.last_good = opened->snapshot;
  note_liveness(tracked);
}

std::optional<SegmentFollower::Opened> SegmentFollower::try_open(
    const SegmentEntry& entry) {
  try {
    auto reader = std::make_shared<const telemetry_shm::SegmentReader>(
        telemetry_shm::SegmentReader::open(entry.path, options_.reader));
    Snapshot snap = reader->snapshot();
    if (snap.service_name != entry.service_name ||
        snap.instance_id != entry.instance_id) {
      reject(entry.path,
             fmt::format("the segment names {}, not what its file name says",
                         instance_name(snap)),
             false);
      return std::nullopt;
    }
    refused_.erase(entry.path);
    return Opened{std::move(reader), std::move(snap)};
  } catch (const TelemetryError& e) {
    reject(entry.path,
           fmt::format("{}: {}", telemetry_shm::to_string(e.code()), e.what()),
           e.code() == telemetry_shm::ErrorCode::kNotReady);
    return std::nullopt;
  }
}

void SegmentFollower::reject(const std::string& path, const std::string& reason,
                             bool not_ready) {
  auto [it, inserted] = refused_.try_emplace(path, reason);
  if (!inserted && it->second == reason) return;
  it->second = reason;
  if (not_ready) {
    logger_->info("segment {} skipped for now: {}", path, reason);
  } else {
    logger_->warn("segment {} rejected: {}", path, reason);
  }
}

void SegmentFollower::note_liveness(Tracked& tracked) {
  const Snapshot& snap = tracked.last_good;
  const bool alive = telemetry_shm::is_alive(snap.liveness);
  if (alive == tracked.alive) return;
  tracked.alive = alive;
  if (alive) {
    logger_->info("instance {} is alive again (generation {})",
                  instance_name(snap), snap.generation);
  } else {
    logger_->info("instance {} is gone: {}", instance_name(snap),
                  telemetry_shm::to_string(snap.liveness));
  }
}

void SegmentFollower::forget_vanished(const std::set<std::string>& listed) {
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (listed.count(it->first) != 0) {
      ++it;
      continue;
    }
    const Snapshot last = final_read(*it->second.reader, it->second.last_good);
    if (!retire_counts(last, std::nullopt)) {
      ++it;
      continue;
    }
    logger_->info(
        "segment {} disappeared; its counts are kept as retired "
        "counts of {}",
        it->first, last.service_name);
    it = tracked_.erase(it);
  }
  std::erase_if(refused_,
                [&](const auto& item) { return !listed.contains(item.first); });
  std::erase_if(unremovable_,
                [&](const auto& item) { return !listed.contains(item.first); });
}

void SegmentFollower::retire_expired() {
  const int64_t now = now_ms();
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    const Snapshot& snap = it->second.last_good;
    const bool expired =
        writer_gone(snap.liveness) &&
        now - last_sign_of_life_ms(snap) >= options_.retention.count();
    if (expired && remove_segment(it->first, it->second)) {
      it = tracked_.erase(it);
    } else {
      ++it;
    }
  }
}

bool SegmentFollower::remove_segment(const std::string& path,
                                     const Tracked& tracked) {
  // Holding the writer's lock keeps a restarting writer out while the
  // final counts are taken and the file is removed.
  FileLock lock(path);
  if (!lock.try_lock() || tracked.reader->replaced()) return false;
  const Snapshot last = final_read(*tracked.reader, tracked.last_good);
  SegmentId id{last.service_name, last.instance_id, last.created_ms};
  if (!retire_counts(last, id)) return false;
  // The state file notes the removal until the file is gone, so that the
  // file is never followed again while its counts are retired.
  if (!remove_retired_file(path)) return true;
  forget_removal(id);
  logger_->info(
      "removed segment {} of {} (writer {} for longer than the retention); "
      "its counts are kept as retired counts",
      path, instance_name(last),
      telemetry_shm::to_string(tracked.last_good.liveness));
  return true;
}

bool SegmentFollower::remove_retired_file(const std::string& path) {
  const int error = options_.remove_file(path);
  if (error == 0 || error == ENOENT) {
    unremovable_.erase(path);
    return true;
  }
  const std::string reason = std::strerror(error);
  auto [it, inserted] = unremovable_.try_emplace(path, reason);
  if (inserted || it->second != reason) {
    it->second = reason;
    logger_->error(
        "cannot remove segment {}: {}; its counts are retired and it is no "
        "longer served, it is removed once that succeeds",
        path, reason);
  }
  return false;
}

bool SegmentFollower::finish_removal(const std::string& path,
                                     const Opened& opened,
                                     const SegmentId& id) {
  FileLock lock(path);
  const bool locked = lock.try_lock();
  if (opened.reader->replaced()) return true;  // the next scan decides
  // With the lock held no writer runs; the file is done with unless one
  // ran meanwhile and counted more than was retired.
  const std::optional<Counters> noted = retired_.removing.at(id);
  const Snapshot now = final_read(*opened.reader, opened.snapshot);
  if (locked && (!noted || same_counters(now.counters, *noted))) {
    if (!remove_retired_file(path)) return true;
    logger_->info("removed segment {}: its counts were already retired", path);
    forget_removal(id);
    return true;
  }
  if (!noted) {
    logger_->warn(
        "segment {} was retired by an older sidecar that did not note its "
        "counts, and a writer took it over: its earlier counts are now in "
        "the retired counts and in the instance",
        path);
    forget_removal(id);
    return false;
  }
  return take_back(path, id, *noted);
}

void SegmentFollower::forget_removal(const SegmentId& id) {
  retired_.removing.erase(id);
  save_state(retired_);
}

void SegmentFollower::forget_removals_replaced_by(const SegmentId& id) {
  // A segment built anew at the path of a pending removal means the old
  // file is gone: that removal is complete.
  const size_t erased = std::erase_if(retired_.removing, [&](const auto& item) {
    return item.first.service_name == id.service_name &&
           item.first.instance_id == id.instance_id;
  });
  if (erased != 0) save_state(retired_);
}

bool SegmentFollower::take_back(const std::string& path, const SegmentId& id,
                                const Counters& noted) {
  // The writer that took the segment over continues its counts, so they
  // leave the retired counts for the instance again.
  RetiredState next = retired_;
  subtract_counters(next.counts[id.service_name], noted);
  next.removing.erase(id);
  if (!save_state(next)) return true;  // not followed until that is saved
  retired_ = std::move(next);
  logger_->warn(
      "segment {} was retired but a writer took it over; its counts move "
      "from the retired counts back to the instance",
      path);
  return false;
}

bool SegmentFollower::retire_counts(const Snapshot& final_counts,
                                    const std::optional<SegmentId>& removing) {
  RetiredState next = retired_;
  add_counters(next.counts[final_counts.service_name], final_counts.counters);
  if (removing) next.removing[*removing] = final_counts.counters;
  if (!save_state(next)) return false;
  retired_ = std::move(next);
  return true;
}

bool SegmentFollower::save_state(const RetiredState& state) {
  try {
    save_retired_state(options_.state_file, state);
    if (state_error_) logger_->info("state file saved again");
    state_error_.reset();
    return true;
  } catch (const StateFileError& e) {
    if (state_error_ != e.what()) {
      logger_->error("{}; segments stay in place until it can be saved",
                     e.what());
      state_error_ = e.what();
    }
    return false;
  }
}

void SegmentFollower::drop_stale_removals() {
  const size_t before = retired_.removing.size();
  std::erase_if(retired_.removing, [&](const auto& item) {
    const SegmentId& id = item.first;
    const std::string path =
        std::filesystem::path(options_.directory) /
        telemetry_shm::segment_file_name(id.service_name, id.instance_id);
    return !std::filesystem::exists(path);
  });
  if (retired_.removing.size() != before) save_state(retired_);
}

void SegmentFollower::publish() {
  auto view = std::make_shared<HostView>();
  for (const auto& [path, tracked] : tracked_) {
    view->services[tracked.last_good.service_name].instances.push_back(
        InstanceView{tracked.reader, tracked.last_good});
  }
  for (const auto& [service, counts] : retired_.counts) {
    view->services[service].retired = counts;
  }
  for (auto& [name, service] : view->services) {
    std::sort(service.instances.begin(), service.instances.end(),
              [](const InstanceView& a, const InstanceView& b) {
                return a.last_good.instance_id < b.last_good.instance_id;
              });
  }
  holder_.set(view);
  for (const auto& [name, service] : view->services) {
    if (known_services_.insert(name).second && on_new_service_) {
      on_new_service_(name);
    }
  }
}

void SegmentFollower::start() {
  std::lock_guard lock(run_mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void SegmentFollower::stop() {
  {
    std::lock_guard lock(run_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SegmentFollower::run() {
  std::unique_lock lock(run_mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      scan_once();
    } catch (const std::exception& e) {
      logger_->error("scan of {} failed: {}", options_.directory, e.what());
    }
    lock.lock();
    wake_.wait_for(lock, options_.scan_interval, [this] { return stopping_; });
  }
}

}  // namespace sidecar
