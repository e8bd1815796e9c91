#include "dispatcher.h"

#include <thrift/TApplicationException.h>
#include <thrift/processor/TMultiplexedProcessor.h>
#include <thrift/transport/TTransport.h>

#include <fmt/format.h>

namespace sidecar {

using apache::thrift::TApplicationException;
using apache::thrift::protocol::StoredMessageProtocol;
using apache::thrift::protocol::TMessageType;
using apache::thrift::protocol::TProtocol;

Dispatcher::Dispatcher(
    std::shared_ptr<const ServiceRegistry> registry,
    std::shared_ptr<apache::thrift::TProcessor> default_processor)
    : registry_(std::move(registry)),
      default_processor_(std::move(default_processor)) {}

Dispatcher::Route Dispatcher::route(const std::string& name) const {
  Route route;
  const size_t colon = name.find(':');
  if (colon == std::string::npos) {
    route.target = default_processor_;
    route.method = name;
    if (!route.target) {
      route.refusal = fmt::format(
          "call '{}' names no service and there is no default service", name);
    }
    return route;
  }
  const std::string service = name.substr(0, colon);
  route.method = name.substr(colon + 1);
  route.target = registry_->find(service);
  if (!route.target) {
    route.refusal = fmt::format("unknown service '{}'", service);
  }
  return route;
}

bool Dispatcher::process(std::shared_ptr<TProtocol> in,
                         std::shared_ptr<TProtocol> out,
                         void* connection_context) {
  std::string name;
  TMessageType type;
  int32_t seqid = 0;
  in->readMessageBegin(name, type, seqid);
  if (type != apache::thrift::protocol::T_CALL &&
      type != apache::thrift::protocol::T_ONEWAY) {
    return refuse(*in, *out, name, type, seqid,
                  fmt::format("message '{}' is not a call", name));
  }
  const Route route = this->route(name);
  if (!route.target) {
    return refuse(*in, *out, name, type, seqid, route.refusal);
  }
  // The processor reads the message header again, without the prefix.
  auto stored =
      std::make_shared<StoredMessageProtocol>(in, route.method, type, seqid);
  return route.target->process(stored, out, connection_context);
}

bool Dispatcher::refuse(TProtocol& in, TProtocol& out,
                        const std::string& message_name, TMessageType type,
                        int32_t seqid, const std::string& why) {
  in.skip(apache::thrift::protocol::T_STRUCT);
  in.readMessageEnd();
  in.getTransport()->readEnd();
  if (type == apache::thrift::protocol::T_ONEWAY) return true;  // no reply

  TApplicationException error(TApplicationException::UNKNOWN_METHOD, why);
  out.writeMessageBegin(message_name, apache::thrift::protocol::T_EXCEPTION,
                        seqid);
  error.write(&out);
  out.writeMessageEnd();
  out.getTransport()->writeEnd();
  out.getTransport()->flush();
  return true;
}

}  // namespace sidecar
