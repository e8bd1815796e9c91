// PlayerHandler: the player service's Thrift handler, answering
// PlayerService from a PlayerStore, and the telemetry methods through
// BaseServiceHandler.
//
// Thread safety: one handler serves every connection; its methods may run
// on any number of threads at once.
#ifndef SERVICES_PLAYER_PLAYER_HANDLER_H_
#define SERVICES_PLAYER_PLAYER_HANDLER_H_

#include <memory>
#include <string>

#include "PlayerService.h"
#include "services/common/base_service_handler.h"
#include "services/player/player_store.h"

namespace services {

class PlayerHandler : public game::PlayerServiceIf, public BaseServiceHandler {
 public:
  static constexpr const char* kServiceName = "PlayerService";

  explicit PlayerHandler(ServiceIdentity identity);

  void create_player(game::Player& result,
                     const game::NewPlayer& player) override;
  void get_player(game::Player& result, const std::string& player_id) override;
  void list_players(game::PlayerPage& result, int32_t offset,
                    int32_t limit) override;
  void update_player(game::Player& result, const std::string& player_id,
                     const game::PlayerChanges& changes) override;

 private:
  PlayerStore store_;
};

// A processor for PlayerService served by a new PlayerHandler.
std::shared_ptr<apache::thrift::TProcessor> make_player_processor(
    const ServiceIdentity& identity);

}  // namespace services

#endif  // SERVICES_PLAYER_PLAYER_HANDLER_H_
