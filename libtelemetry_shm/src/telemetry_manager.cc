#include "telemetry_shm/telemetry_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "counting_internal.h"
#include "segment_file.h"
#include "telemetry_shm/error.h"
#include "telemetry_shm/segment_reader.h"

namespace telemetry_shm {
namespace {

namespace bip = boost::interprocess;
using internal::FileDescriptor;
using layout::Segment;
using layout::SegmentState;

// How long start() waits for a reader's momentary shared lock to go away
// before it concludes that another writer holds the segment.
constexpr int kLockAttempts = 100;
constexpr auto kLockRetryDelay = std::chrono::milliseconds(2);

// How often start() retries when the segment is replaced under it.
constexpr int kAttachAttempts = 5;

void validate_options(const ManagerOptions& options) {
  segment_file_name(options.service_name, options.instance_id);
  if (options.mode != 0600 && options.mode != 0640) {
    throw TelemetryError(ErrorCode::kInvalidArgument,
                         "segment mode must be 0600 or 0640, not 0" +
                             std::to_string(options.mode & 07777));
  }
  if (options.heartbeat_interval.count() <= 0) {
    throw TelemetryError(
        ErrorCode::kInvalidArgument,
        "heartbeat interval must be positive, not " +
            std::to_string(options.heartbeat_interval.count()) + " ms");
  }
}

void warn(const ManagerOptions& options, const std::string& message) {
  if (options.warn) options.warn(message);
}

// Creates `directory` and any missing parents, then checks that it is one.
void ensure_directory(const std::string& directory, mode_t mode) {
  for (size_t pos = 1; pos <= directory.size(); ++pos) {
    if (pos != directory.size() && directory[pos] != '/') continue;
    const std::string prefix = directory.substr(0, pos);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      throw system_error("creating segment directory " + prefix, errno);
    }
  }
  struct stat st;
  if (::stat(directory.c_str(), &st) != 0) {
    throw system_error("examining segment directory " + directory, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    throw TelemetryError(
        ErrorCode::kInvalidArgument,
        "segment directory " + directory + " exists but is not a directory");
  }
}

// Opens the segment file, creating it exclusively when it does not exist.
FileDescriptor open_or_create(const std::string& path, mode_t mode) {
  const int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
  int fd = ::open(path.c_str(), flags | O_CREAT | O_EXCL, mode);
  if (fd >= 0) {
    // The umask may have narrowed the mode; the caller asked for this one.
    ::fchmod(fd, mode);
    return FileDescriptor(fd);
  }
  if (errno == EEXIST) fd = ::open(path.c_str(), flags);
  if (fd >= 0) return FileDescriptor(fd);
  if (errno == ELOOP) {
    throw TelemetryError(ErrorCode::kUnsafeFile,
                         "segment " + path + " is a symlink; refused");
  }
  if (errno == EISDIR) {
    throw TelemetryError(ErrorCode::kUnsafeFile,
                         "segment " + path + " is a directory, not a file");
  }
  throw system_error("opening segment " + path, errno);
}

void lock_exclusive(int fd, const std::string& path,
                    const ManagerOptions& options) {
  for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return;
    if (errno != EWOULDBLOCK) throw system_error("flock " + path, errno);
    std::this_thread::sleep_for(kLockRetryDelay);
  }
  throw TelemetryError(ErrorCode::kAlreadyRunning,
                       "instance '" + options.instance_id + "' of service '" +
                           options.service_name +
                           "' is already running: another process holds the "
                           "lock on " +
                           path);
}

// True when `path` still names the file open as `fd`.
bool still_linked(int fd, const std::string& path) {
  struct stat by_path;
  if (::lstat(path.c_str(), &by_path) != 0) return false;
  const struct stat by_fd = internal::stat_descriptor(fd, path);
  return by_path.st_dev == by_fd.st_dev && by_path.st_ino == by_fd.st_ino;
}

void check_ownership(const struct stat& st, const std::string& path) {
  if (!S_ISREG(st.st_mode)) {
    throw TelemetryError(ErrorCode::kUnsafeFile,
                         "segment " + path + " is not a regular file");
  }
  if (st.st_uid != ::geteuid()) {
    throw TelemetryError(ErrorCode::kUnsafeFile,
                         "segment " + path + " is owned by uid " +
                             std::to_string(st.st_uid) +
                             ", not by this user; refused");
  }
}

void take_over(Segment& segment) {
  internal::claim_identity(segment);
  internal::publish_descriptors(segment, internal::known_counter_names());
  segment.header.state.store(static_cast<uint32_t>(SegmentState::kReady),
                             std::memory_order_release);
}

}  // namespace

class TelemetryManager::Impl {
 public:
  void start(const ManagerOptions& options);
  void stop();
  bool started() const;
  Snapshot snapshot() const;
  std::string segment_path() const;

 private:
  // Tries once to open, lock and take over (or build) the segment. Returns
  // false when the file was replaced or moved aside and a retry is due.
  bool try_attach();
  void move_aside(const std::string& reason);
  void heartbeat_loop();
  // Adds counts kept in process memory since the last call to the
  // housekeeping stripe of the segment.
  void publish_local_counts();

  mutable std::mutex mu_;  // guards every member below
  bool started_ = false;
  ManagerOptions options_;
  std::string path_;
  FileDescriptor fd_;
  Segment* segment_ = nullptr;
  // Mappings are never unmapped while the process runs: a thread that
  // raced with stop() may still write into one.
  std::vector<bip::mapped_region> regions_;

  std::mutex publish_mu_;  // serializes publish_local_counts()
  uint64_t published_[layout::kMaxCounters] = {};

  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread heartbeat_;
};

void TelemetryManager::Impl::start(const ManagerOptions& options) {
  std::unique_lock lock(mu_);
  if (started_) {
    throw TelemetryError(ErrorCode::kInvalidArgument,
                         "telemetry already started for " + path_);
  }
  validate_options(options);
  options_ = options;
  if (options_.directory.empty()) options_.directory = default_directory();

  ensure_directory(options_.directory, options_.mode == 0640 ? 0750 : 0700);
  if (!is_memory_backed(options_.directory)) {
    warn(options_, "segment directory " + options_.directory +
                       " is not on tmpfs: writes may stall on disk writeback");
  }
  path_ = options_.directory + "/" +
          segment_file_name(options_.service_name, options_.instance_id);

  bool attached = false;
  try {
    for (int attempt = 0; attempt < kAttachAttempts && !attached; ++attempt) {
      attached = try_attach();
    }
  } catch (...) {
    fd_.reset();
    throw;
  }
  if (!attached) {
    throw TelemetryError(ErrorCode::kSystem,
                         "segment " + path_ +
                             " kept being replaced while "
                             "starting; gave up after " +
                             std::to_string(kAttachAttempts) + " attempts");
  }

  publish_local_counts();
  internal::switch_stripes(segment_->stripes);
  stopping_ = false;
  heartbeat_ = std::thread([this] { heartbeat_loop(); });
  started_ = true;
}

bool TelemetryManager::Impl::try_attach() {
  fd_ = open_or_create(path_, options_.mode);
  lock_exclusive(fd_.get(), path_, options_);
  if (!still_linked(fd_.get(), path_)) {
    fd_.reset();
    return false;
  }

  const struct stat st = internal::stat_descriptor(fd_.get(), path_);
  check_ownership(st, path_);
  const bool fresh = st.st_size == 0;
  if (!fresh && st.st_size != static_cast<off_t>(layout::kSegmentSize)) {
    move_aside("its size is " + std::to_string(st.st_size) + " bytes, not " +
               std::to_string(layout::kSegmentSize));
    return false;
  }
  if (fresh && ::ftruncate(fd_.get(), layout::kSegmentSize) != 0) {
    throw system_error("sizing segment " + path_, errno);
  }

  bip::mapped_region region =
      internal::map_file(fd_.get(), layout::kSegmentSize, true);
  auto* segment = static_cast<Segment*>(region.get_address());
  if (fresh) {
    internal::build_segment(*segment, options_.service_name,
                            options_.instance_id,
                            internal::known_counter_names());
  } else {
    try {
      internal::validate_segment(*segment, layout::kSegmentSize, path_,
                                 options_.service_name, options_.instance_id);
      take_over(*segment);
    } catch (const TelemetryError& e) {
      // A creator that died while building leaves no counts behind.
      if (e.code() != ErrorCode::kNotReady) {
        move_aside(e.what());
        return false;
      }
      internal::build_segment(*segment, options_.service_name,
                              options_.instance_id,
                              internal::known_counter_names());
    }
  }
  regions_.push_back(std::move(region));
  segment_ = segment;
  return true;
}

void TelemetryManager::Impl::move_aside(const std::string& reason) {
  const std::string aside =
      path_ + ".corrupt-" + std::to_string(internal::now_ms());
  if (::rename(path_.c_str(), aside.c_str()) != 0) {
    throw system_error("moving unusable segment " + path_ + " aside", errno);
  }
  fd_.reset();
  warn(options_, "segment " + path_ + " was unusable (" + reason +
                     "); kept it as " + aside + " and started a new one");
}

void TelemetryManager::Impl::publish_local_counts() {
  std::lock_guard lock(publish_mu_);
  const layout::Stripe* local = internal::local_stripes();
  auto& own = segment_->stripes[layout::kHousekeepingStripe];
  for (uint32_t slot = 0; slot < layout::kMaxCounters; ++slot) {
    const uint64_t total = internal::sum_cells(local, slot);
    const uint64_t delta = total - published_[slot];
    if (delta == 0) continue;
    own.cells[slot].store(
        own.cells[slot].load(std::memory_order_relaxed) + delta,
        std::memory_order_relaxed);
    published_[slot] = total;
  }
}

void TelemetryManager::Impl::heartbeat_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.heartbeat_interval);
    if (stopping_) break;
    segment_->header.heartbeat_ms.store(internal::now_ms(),
                                        std::memory_order_relaxed);
    publish_local_counts();
  }
}

void TelemetryManager::Impl::stop() {
  std::unique_lock lock(mu_);
  if (!started_) return;
  stopping_ = true;
  lock.unlock();
  wake_.notify_all();
  heartbeat_.join();
  lock.lock();

  internal::switch_stripes(internal::local_stripes());
  publish_local_counts();
  segment_->header.state.store(static_cast<uint32_t>(SegmentState::kStopped),
                               std::memory_order_release);
  // The mapping we keep holds the open file, and with it the lock, alive:
  // release the lock explicitly so that readers see a stopped writer.
  ::flock(fd_.get(), LOCK_UN);
  fd_.reset();
  segment_ = nullptr;
  started_ = false;
}

bool TelemetryManager::Impl::started() const {
  std::lock_guard lock(mu_);
  return started_;
}

Snapshot TelemetryManager::Impl::snapshot() const {
  std::lock_guard lock(mu_);
  if (started_) return internal::read_segment(*segment_, Liveness::kAlive);

  Snapshot snap;
  snap.service_name = options_.service_name;
  snap.instance_id = options_.instance_id;
  snap.liveness = Liveness::kStopped;
  snap.taken_ms = internal::now_ms();
  const auto& names = internal::known_counter_names();
  for (size_t i = 0; i < names.size(); ++i) {
    const auto slot = static_cast<uint32_t>(i);
    snap.counters.push_back(
        {static_cast<int32_t>(i) + 1, names[i],
         internal::sum_cells(internal::local_stripes(), slot)});
  }
  return snap;
}

std::string TelemetryManager::Impl::segment_path() const {
  std::lock_guard lock(mu_);
  return started_ ? path_ : std::string();
}

TelemetryManager& TelemetryManager::instance() {
  static TelemetryManager* const manager = new TelemetryManager();
  return *manager;
}

TelemetryManager::TelemetryManager() : impl_(std::make_unique<Impl>()) {}
TelemetryManager::~TelemetryManager() = default;

void TelemetryManager::start(const ManagerOptions& options) {
  impl_->start(options);
}
void TelemetryManager::stop() { impl_->stop(); }
bool TelemetryManager::started() const { return impl_->started(); }
Snapshot TelemetryManager::snapshot() const { return impl_->snapshot(); }
std::string TelemetryManager::segment_path() const {
  return impl_->segment_path();
}

}  // namespace telemetry_shm
