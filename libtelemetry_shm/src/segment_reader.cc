#include "telemetry_shm/segment_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "segment_file.h"
#include "telemetry_shm/error.h"

namespace telemetry_shm {
namespace {

constexpr std::string_view kSuffix = ".seg";

// Splits "<service>.<instance>.seg"; false when `file` has another form.
bool parse_file_name(std::string_view file, SegmentEntry* entry) {
  if (file.size() <= kSuffix.size() || !file.ends_with(kSuffix)) return false;
  file.remove_suffix(kSuffix.size());
  const size_t dot = file.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view service = file.substr(0, dot);
  const std::string_view instance = file.substr(dot + 1);
  if (!is_valid_name(service) || !is_valid_name(instance)) return false;
  entry->service_name = service;
  entry->instance_id = instance;
  return true;
}

internal::FileDescriptor open_for_reading(const std::string& path) {
  const int fd = ::open(
      path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd >= 0) return internal::FileDescriptor(fd);
  if (errno == ELOOP) {
    throw TelemetryError(ErrorCode::kUnsafeFile,
                         "segment " + path + " is a symlink; refused");
  }
  throw system_error("opening segment " + path, errno);
}

void check_file(const struct stat& st, const std::string& path,
                const ReaderOptions& options) {
  if (!S_ISREG(st.st_mode)) {
    throw TelemetryError(ErrorCode::kUnsafeFile,
                         "segment " + path + " is not a regular file");
  }
  if (st.st_uid != ::geteuid() && !options.allow_foreign_owner) {
    throw TelemetryError(
        ErrorCode::kUnsafeFile,
        "segment " + path + " is owned by uid " + std::to_string(st.st_uid) +
            ", not by this user (uid " + std::to_string(::geteuid()) +
            "); refused unless foreign owners are allowed");
  }
  if (st.st_size < static_cast<off_t>(sizeof(layout::SegmentHeader))) {
    throw TelemetryError(
        ErrorCode::kCorrupt,
        "segment " + path + " is truncated: " + std::to_string(st.st_size) +
            " bytes, shorter than its " +
            std::to_string(sizeof(layout::SegmentHeader)) + "-byte header");
  }
}

}  // namespace

class SegmentReader::Impl {
 public:
  std::string path;
  std::string service_name;  // from the file name, when it has the form
  std::string instance_id;
  ReaderOptions options;
  internal::FileDescriptor fd;
  dev_t device = 0;
  ino_t inode = 0;
  boost::interprocess::mapped_region region;

  const layout::Segment& segment() const {
    return *static_cast<const layout::Segment*>(region.get_address());
  }

  // The file may have been truncated or rewritten since it was opened;
  // reading a mapped page past the end of the file would kill the reader.
  // The descriptors are checked as the snapshot reads them.
  void revalidate() const {
    const struct stat st = internal::stat_descriptor(fd.get(), path);
    if (st.st_size < static_cast<off_t>(layout::kSegmentSize)) {
      throw TelemetryError(ErrorCode::kCorrupt,
                           "segment " + path + " shrank to " +
                               std::to_string(st.st_size) + " bytes");
    }
    internal::validate_header(segment(), st.st_size, path, service_name,
                              instance_id);
  }

  Liveness liveness() const {
    const bool locked = internal::writer_holds_lock(fd.get(), path);
    return internal::judge_liveness(
        locked, segment(), options.stale_after.count(), internal::now_ms());
  }
};

std::string default_directory() {
  const char* env = std::getenv("TELEMETRY_DIR");
  if (env != nullptr && *env != '\0') return env;
  return "/dev/shm/telemetry";
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() >= layout::kNameCapacity) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string segment_file_name(std::string_view service_name,
                              std::string_view instance_id) {
  for (std::string_view name : {service_name, instance_id}) {
    if (!is_valid_name(name)) {
      throw TelemetryError(ErrorCode::kInvalidArgument,
                           "name '" + std::string(name) +
                               "' is not 1 to 63 characters of "
                               "[A-Za-z0-9_-]");
    }
  }
  return std::string(service_name) + "." + std::string(instance_id) +
         std::string(kSuffix);
}

bool is_memory_backed(const std::string& directory) {
  struct statfs fs;
  if (::statfs(directory.c_str(), &fs) != 0) {
    throw system_error("examining " + directory, errno);
  }
  return fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC;
}

std::vector<SegmentEntry> list_segments(const std::string& directory) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) {
    throw system_error("listing segment directory " + directory, errno);
  }

  std::vector<SegmentEntry> entries;
  while (const dirent* item = ::readdir(dir)) {
    SegmentEntry entry;
    if (!parse_file_name(item->d_name, &entry)) continue;
    entry.path = directory + "/" + item->d_name;
    entries.push_back(std::move(entry));
  }
  ::closedir(dir);

  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.service_name, a.instance_id) <
           std::tie(b.service_name, b.instance_id);
  });
  return entries;
}

SegmentReader SegmentReader::open(const std::string& path,
                                  const ReaderOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  impl->fd = open_for_reading(path);

  const struct stat st = internal::stat_descriptor(impl->fd.get(), path);
  check_file(st, path, options);
  impl->device = st.st_dev;
  impl->inode = st.st_ino;

  // Map no more than the layout's size: the sizes are checked next.
  const size_t size =
      std::min<size_t>(static_cast<size_t>(st.st_size), layout::kSegmentSize);
  impl->region = internal::map_file(impl->fd.get(), size, false);

  SegmentEntry names;
  const size_t slash = path.find_last_of('/');
  const std::string file =
      slash == std::string::npos ? path : path.substr(slash + 1);
  if (parse_file_name(file, &names)) {
    impl->service_name = names.service_name;
    impl->instance_id = names.instance_id;
  }
  internal::validate_segment(impl->segment(), st.st_size, path,
                             impl->service_name, impl->instance_id);
  return SegmentReader(std::move(impl));
}

SegmentReader::SegmentReader(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
SegmentReader::SegmentReader(SegmentReader&&) noexcept = default;
SegmentReader& SegmentReader::operator=(SegmentReader&&) noexcept = default;
SegmentReader::~SegmentReader() = default;

Snapshot SegmentReader::snapshot() const {
  impl_->revalidate();
  return internal::read_checked_segment(impl_->segment(), impl_->liveness(),
                                        impl_->path);
}

Liveness SegmentReader::liveness() const { return impl_->liveness(); }

const std::string& SegmentReader::path() const { return impl_->path; }

bool SegmentReader::replaced() const {
  struct stat st;
  if (::lstat(impl_->path.c_str(), &st) != 0) return true;
  return st.st_dev != impl_->device || st.st_ino != impl_->inode;
}

}  // namespace telemetry_shm
