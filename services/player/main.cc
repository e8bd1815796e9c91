// player_service: serves PlayerService on port 9093 unless told otherwise.
// Run with --help for the flags.
#include "services/common/service_main.h"
#include "services/player/player_handler.h"
#include "telemetry_shm/thrift_server.h"

int main(int argc, char** argv) {
  telemetry_shm::block_stop_signals();

  services::ServiceDefinition definition;
  definition.program = "player_service";
  definition.service_name = services::PlayerHandler::kServiceName;
  definition.default_port = 9093;
  definition.make_processor = services::make_player_processor;
  return services::run_service(definition, argc, argv);
}
