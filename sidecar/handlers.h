// The Thrift handlers of the sidecar: BaseService once per game service,
// TelemetrySidecar and CounterService (see sidecar.thrift).
//
// Handlers hold no state of their own: each call takes the follower's
// current HostView through a ViewSource and reads the segments it names.
//
// Thread safety: every handler serves any number of connections at once.
#ifndef SIDECAR_HANDLERS_H_
#define SIDECAR_HANDLERS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "BaseService.h"
#include "CounterService.h"
#include "TelemetrySidecar.h"
#include "host_view.h"

namespace sidecar {

using ViewSource = std::function<std::shared_ptr<const HostView>()>;

// What every handler says about the sidecar itself.
struct SidecarIdentity {
  std::string version;
  int64_t start_time_ms = 0;
  std::string telemetry_dir;
};

// BaseService for one game service, answering with its total.
class ServiceTotalHandler : public telemetry::BaseServiceIf {
 public:
  ServiceTotalHandler(std::string service_name, ViewSource source,
                      SidecarIdentity identity);

  void describe(telemetry::ServiceMetadata& result) override;

  // Throws TelemetryUnavailable when the service is not (or no longer) in
  // the current view.
  void get_telemetry(telemetry::TelemetrySnapshot& result) override;

 private:
  std::string service_name_;
  ViewSource source_;
  SidecarIdentity identity_;
};

class SidecarHandler : public telemetry::sidecar::TelemetrySidecarIf {
 public:
  SidecarHandler(ViewSource source, SidecarIdentity identity);

  void list_services(
      std::vector<telemetry::sidecar::ServiceInfo>& result) override;
  void get_all_telemetry(telemetry::sidecar::SidecarTelemetry& result) override;

 private:
  ViewSource source_;
  SidecarIdentity identity_;
};

class CounterHandler : public telemetry::sidecar::CounterServiceIf {
 public:
  CounterHandler(ViewSource source, SidecarIdentity identity);

  void getCounters(std::map<std::string, int64_t>& result) override;
  int64_t getCounter(const std::string& key) override;
  void getSelectedCounters(std::map<std::string, int64_t>& result,
                           const std::vector<std::string>& keys) override;
  // Throws InvalidRegex for a pattern that select_matching() refuses.
  void getRegexCounters(std::map<std::string, int64_t>& result,
                        const std::string& regex) override;
  int64_t aliveSince() override;

 private:
  std::map<std::string, int64_t> all_counters() const;

  ViewSource source_;
  SidecarIdentity identity_;
};

// A BaseService processor for `service_name`, ready for a ServiceRegistry.
std::shared_ptr<apache::thrift::TProcessor> make_service_processor(
    const std::string& service_name, ViewSource source,
    const SidecarIdentity& identity);

}  // namespace sidecar

#endif  // SIDECAR_HANDLERS_H_
