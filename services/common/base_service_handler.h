// BaseServiceHandler: the telemetry methods that every game service
// answers, describe() and get_telemetry().
//
// A service handler derives from its generated interface and from this
// class; since the generated interfaces derive virtually from
// telemetry::BaseServiceIf, the two methods here serve every service:
//
//   class ItemHandler : public game::ItemServiceIf,
//                       public BaseServiceHandler { ... };
//
// get_telemetry() reads this process's counters from the TelemetryManager.
// It raises telemetry::TelemetryUnavailable, with the reason, when the
// service counts nothing (started with counting off) or when the counters
// cannot be read.
//
// Thread safety: both methods may run on any number of threads at once;
// the handler is immutable after construction.
#ifndef SERVICES_COMMON_BASE_SERVICE_HANDLER_H_
#define SERVICES_COMMON_BASE_SERVICE_HANDLER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "BaseService.h"

namespace services {

// What a running service says about itself.
struct ServiceIdentity {
  std::string service_name;   // such as "ItemService"
  std::string instance_id;    // such as "9091"
  std::string version;        // of the program
  int64_t start_time_ms = 0;  // when the process started, since the epoch
  bool counting = true;       // false when started with counting off
};

// The methods of telemetry::BaseService, in IDL order. Every service lists
// them first among its methods.
std::vector<std::string> base_service_methods();

class BaseServiceHandler : virtual public telemetry::BaseServiceIf {
 public:
  // `methods` are the names the service answers, in IDL order, base
  // methods included.
  BaseServiceHandler(ServiceIdentity identity,
                     std::vector<std::string> methods);

  void describe(telemetry::ServiceMetadata& metadata) override;
  void get_telemetry(telemetry::TelemetrySnapshot& snapshot) override;

  const ServiceIdentity& identity() const { return identity_; }

 private:
  const ServiceIdentity identity_;
  const std::vector<std::string> methods_;
};

}  // namespace services

#endif  // SERVICES_COMMON_BASE_SERVICE_HANDLER_H_
