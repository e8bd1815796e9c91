// Dispatcher: a TProcessor that routes multiplexed calls ("Service:method")
// to the processor registered under "Service" in a ServiceRegistry, and
// plain calls (no ':') to a default processor.
//
// Unlike TMultiplexedProcessor, whose map may not change while it serves,
// the registry may gain services at any time. A call naming a service that
// is not registered (or a plain call without a default) has its arguments
// skipped and is answered with a TApplicationException (UNKNOWN_METHOD)
// whose message names the service (a oneway call gets no reply); the
// connection stays usable.
//
// Thread safety: one Dispatcher serves every connection at once.
#ifndef SIDECAR_DISPATCHER_H_
#define SIDECAR_DISPATCHER_H_

#include <thrift/TProcessor.h>
#include <thrift/protocol/TProtocol.h>

#include <memory>
#include <string>

#include "service_registry.h"

namespace sidecar {

class Dispatcher : public apache::thrift::TProcessor {
 public:
  // `default_processor` may be null: plain calls are then refused.
  Dispatcher(std::shared_ptr<const ServiceRegistry> registry,
             std::shared_ptr<apache::thrift::TProcessor> default_processor);

  bool process(std::shared_ptr<apache::thrift::protocol::TProtocol> in,
               std::shared_ptr<apache::thrift::protocol::TProtocol> out,
               void* connection_context) override;

 private:
  // Where a call goes: a processor and the method name without prefix, or
  // no processor and why.
  struct Route {
    std::shared_ptr<apache::thrift::TProcessor> target;
    std::string method;
    std::string refusal;
  };

  Route route(const std::string& message_name) const;
  bool refuse(apache::thrift::protocol::TProtocol& in,
              apache::thrift::protocol::TProtocol& out,
              const std::string& message_name,
              apache::thrift::protocol::TMessageType type, int32_t seqid,
              const std::string& why);

  std::shared_ptr<const ServiceRegistry> registry_;
  std::shared_ptr<apache::thrift::TProcessor> default_processor_;
};

}  // namespace sidecar

#endif  // SIDECAR_DISPATCHER_H_
