#include "services/player/player_handler.h"

#include <utility>

namespace services {
namespace {

std::vector<std::string> player_methods() {
  std::vector<std::string> methods = base_service_methods();
  methods.insert(methods.end(), {"create_player", "get_player", "list_players",
                                 "update_player"});
  return methods;
}

}  // namespace

PlayerHandler::PlayerHandler(ServiceIdentity identity)
    : BaseServiceHandler(std::move(identity), player_methods()) {}

void PlayerHandler::create_player(game::Player& result,
                                  const game::NewPlayer& player) {
  result = store_.create(player);
}

void PlayerHandler::get_player(game::Player& result,
                               const std::string& player_id) {
  result = store_.get(player_id);
}

void PlayerHandler::list_players(game::PlayerPage& result, int32_t offset,
                                 int32_t limit) {
  result = store_.list(offset, limit);
}

void PlayerHandler::update_player(game::Player& result,
                                  const std::string& player_id,
                                  const game::PlayerChanges& changes) {
  result = store_.update(player_id, changes);
}

std::shared_ptr<apache::thrift::TProcessor> make_player_processor(
    const ServiceIdentity& identity) {
  return std::make_shared<game::PlayerServiceProcessor>(
      std::make_shared<PlayerHandler>(identity));
}

}  // namespace services
