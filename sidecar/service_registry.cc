#include "service_registry.h"

#include <mutex>

namespace sidecar {

bool ServiceRegistry::add(
    const std::string& name,
    std::shared_ptr<apache::thrift::TProcessor> processor) {
  if (name.empty() || name.find(':') != std::string::npos || !processor) {
    return false;
  }
  std::unique_lock lock(mutex_);
  return processors_.emplace(name, std::move(processor)).second;
}

std::shared_ptr<apache::thrift::TProcessor> ServiceRegistry::find(
    const std::string& name) const {
  std::shared_lock lock(mutex_);
  auto it = processors_.find(name);
  return it == processors_.end() ? nullptr : it->second;
}

std::vector<std::string> ServiceRegistry::names() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> names;
  names.reserve(processors_.size());
  for (const auto& [name, processor] : processors_) names.push_back(name);
  return names;
}

}  // namespace sidecar
