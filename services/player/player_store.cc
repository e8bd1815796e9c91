#include "services/player/player_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <mutex>

#include "services/common/validation.h"

namespace services {
namespace {

constexpr std::string_view kIdPrefix = "player";

void check_level(int32_t level) {
  check_range("level", level, 1, PlayerStore::kMaxLevel);
}

void check_experience(int64_t experience) {
  check_range("experience", experience, 0, std::numeric_limits<int64_t>::max());
}

// Checks every field that `changes` sets, under the rules of NewPlayer.
void check_changes(const game::PlayerChanges& changes) {
  const auto& set = changes.__isset;
  if (!set.name && !set.level && !set.experience) {
    throw_invalid_input("changes set no field: nothing to update");
  }
  if (set.name) check_name("name", changes.name, PlayerStore::kMaxNameBytes);
  if (set.level) check_level(changes.level);
  if (set.experience) check_experience(changes.experience);
}

// The player numbered `number` in `players`; throws game::NotFound naming
// `player_id`. Works on the const and the mutable map alike.
template <typename Players>
auto& find_player(Players& players, const std::string& player_id,
                  uint64_t number) {
  auto it = players.find(number);
  if (it == players.end()) {
    throw_not_found(fmt::format("player {} does not exist", player_id));
  }
  return it->second;
}

}  // namespace

game::Player PlayerStore::create(const game::NewPlayer& player) {
  require_field("name", player.__isset.name);
  check_name("name", player.name, kMaxNameBytes);
  if (player.__isset.level) check_level(player.level);
  if (player.__isset.experience) check_experience(player.experience);

  game::Player created;
  created.name = player.name;
  created.level = player.__isset.level ? player.level : 1;
  created.experience = player.__isset.experience ? player.experience : 0;

  std::unique_lock lock(mutex_);
  check_name_free(created.name, 0);
  const uint64_t number = next_number_++;
  created.player_id = format_id(kIdPrefix, number);
  players_.emplace(number, created);
  numbers_by_name_.emplace(created.name, number);
  return created;
}

game::Player PlayerStore::get(const std::string& player_id) const {
  const uint64_t number = parse_id("player_id", kIdPrefix, player_id);
  std::shared_lock lock(mutex_);
  return find_player(players_, player_id, number);
}

game::PlayerPage PlayerStore::list(int32_t offset, int32_t limit) const {
  check_page(offset, limit);

  game::PlayerPage page;
  std::shared_lock lock(mutex_);
  page.total = static_cast<int32_t>(players_.size());
  auto it = players_.begin();
  std::advance(it, std::min<size_t>(offset, players_.size()));
  for (; it != players_.end() && std::ssize(page.players) < limit; ++it) {
    page.players.push_back(it->second);
  }
  return page;
}

game::Player PlayerStore::update(const std::string& player_id,
                                 const game::PlayerChanges& changes) {
  const uint64_t number = parse_id("player_id", kIdPrefix, player_id);
  check_changes(changes);

  std::unique_lock lock(mutex_);
  game::Player& player = find_player(players_, player_id, number);
  if (changes.__isset.name && changes.name != player.name) {
    check_name_free(changes.name, number);
    numbers_by_name_.erase(player.name);
    numbers_by_name_.emplace(changes.name, number);
    player.name = changes.name;
  }
  if (changes.__isset.level) player.level = changes.level;
  if (changes.__isset.experience) player.experience = changes.experience;
  return player;
}

void PlayerStore::check_name_free(const std::string& name,
                                  uint64_t owner) const {
  auto it = numbers_by_name_.find(name);
  if (it != numbers_by_name_.end() && it->second != owner) {
    game::AlreadyExists error;
    error.message = fmt::format("name '{}' is taken by player {}", name,
                                format_id(kIdPrefix, it->second));
    throw error;
  }
}

}  // namespace services
