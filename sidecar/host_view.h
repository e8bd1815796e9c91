// What the sidecar serves: the services found in the telemetry directory,
// each with its instances' segments and its retired counts.
//
// A HostView is immutable once published: the follower builds a new one on
// every scan and swaps it into a ViewHolder, and callers read segments
// through the readers it holds. A service's total is therefore always
// computed from one consistent set of instances and retired counts, so a
// segment being retired is counted exactly once.
//
// read_service() reads each instance's segment at call time; when a read
// fails, or the segment suddenly names another instance, the instance keeps
// the numbers of the follower's last good read.
//
// Thread safety: a HostView may be read from any number of threads.
// ViewHolder's members may be called from any thread.
#ifndef SIDECAR_HOST_VIEW_H_
#define SIDECAR_HOST_VIEW_H_

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "aggregation.h"
#include "telemetry_shm/segment_reader.h"
#include "telemetry_shm/snapshot.h"

namespace sidecar {

struct InstanceView {
  std::shared_ptr<const telemetry_shm::SegmentReader> reader;
  telemetry_shm::Snapshot last_good;  // the follower's latest good read
};

struct ServiceView {
  std::vector<InstanceView> instances;  // sorted by instance id
  Counters retired;                     // counts of removed segments
};

struct HostView {
  std::map<std::string, ServiceView> services;
};

class ViewHolder {
 public:
  ViewHolder() : view_(std::make_shared<const HostView>()) {}

  std::shared_ptr<const HostView> get() const;
  void set(std::shared_ptr<const HostView> view);

 private:
  mutable std::shared_mutex mutex_;
  std::shared_ptr<const HostView> view_;
};

// One service read now: its instances and its total.
struct ServiceReading {
  std::string service_name;
  std::vector<telemetry_shm::Snapshot> instances;  // by instance id
  Counters retired;
  telemetry_shm::Snapshot total;  // instances plus retired, taken now
};

ServiceReading read_service(const std::string& service_name,
                            const ServiceView& service);

// Every service of `view`, sorted by name.
std::vector<ServiceReading> read_host(const HostView& view);

}  // namespace sidecar

#endif  // SIDECAR_HOST_VIEW_H_
