// item_service: serves ItemService on port 9091 unless told otherwise.
// Run with --help for the flags.
#include "services/common/service_main.h"
#include "services/item/item_handler.h"
#include "telemetry_shm/thrift_server.h"

int main(int argc, char** argv) {
  telemetry_shm::block_stop_signals();

  services::ServiceDefinition definition;
  definition.program = "item_service";
  definition.service_name = services::ItemHandler::kServiceName;
  definition.default_port = 9091;
  definition.make_processor = services::make_item_processor;
  return services::run_service(definition, argc, argv);
}
