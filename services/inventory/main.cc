// inventory_service: serves InventoryService on port 9092 unless told
// otherwise. Run with --help for the flags.
#include "services/common/service_main.h"
#include "services/inventory/inventory_handler.h"
#include "telemetry_shm/thrift_server.h"

int main(int argc, char** argv) {
  telemetry_shm::block_stop_signals();

  services::ServiceDefinition definition;
  definition.program = "inventory_service";
  definition.service_name = services::InventoryHandler::kServiceName;
  definition.default_port = 9092;
  definition.make_processor = services::make_inventory_processor;
  return services::run_service(definition, argc, argv);
}
