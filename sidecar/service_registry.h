// ServiceRegistry: the processors the sidecar serves, by service name.
//
// Services are added while the server runs (a service is found in the
// telemetry directory), so every lookup takes a shared lock and every
// change an exclusive one. Processors are never removed: a service whose
// segments are all gone still answers with its retired counts.
//
// Thread safety: every member may be called from any thread.
#ifndef SIDECAR_SERVICE_REGISTRY_H_
#define SIDECAR_SERVICE_REGISTRY_H_

#include <thrift/TProcessor.h>

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace sidecar {

class ServiceRegistry {
 public:
  // Registers `processor` under `name`. Returns false, changing nothing,
  // when the name is already taken or contains ':' (the separator of the
  // multiplexed protocol).
  bool add(const std::string& name,
           std::shared_ptr<apache::thrift::TProcessor> processor);

  // The processor registered under `name`, or null.
  std::shared_ptr<apache::thrift::TProcessor> find(
      const std::string& name) const;

  std::vector<std::string> names() const;

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<apache::thrift::TProcessor>,
           std::less<>>
      processors_;
};

}  // namespace sidecar

#endif  // SIDECAR_SERVICE_REGISTRY_H_
