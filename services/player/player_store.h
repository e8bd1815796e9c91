// PlayerStore: the players of the player service, kept in memory.
//
// The store assigns ids ("player-1", "player-2", ...) in order of creation
// and keeps player names unique. Every method checks its input first and
// changes nothing when it throws:
//
//   game::InvalidInput   a field is missing, out of range or malformed; the
//                        message names the field.
//   game::NotFound       a well-formed id names no player.
//   game::AlreadyExists  the name belongs to another player.
//
// Thread safety: every method may be called from any number of threads at
// once. Readers share a lock; writers take it alone, so two players racing
// for one name cannot both get it.
#ifndef SERVICES_PLAYER_PLAYER_STORE_H_
#define SERVICES_PLAYER_PLAYER_STORE_H_

#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>

#include "game_types.h"

namespace services {

class PlayerStore {
 public:
  static constexpr size_t kMaxNameBytes = 32;
  static constexpr int32_t kMaxLevel = 100;

  // Registers a player. `name` is required; a missing `level` is 1 and a
  // missing `experience` is 0.
  game::Player create(const game::NewPlayer& player);

  game::Player get(const std::string& player_id) const;

  // Up to `limit` players (1 to kMaxPageSize) from position `offset` (0 or
  // more) in order of creation, and the number of players in all.
  game::PlayerPage list(int32_t offset, int32_t limit) const;

  // Applies the fields set in `changes`; at least one must be set.
  game::Player update(const std::string& player_id,
                      const game::PlayerChanges& changes);

 private:
  // Throws game::AlreadyExists when `name` belongs to a player other than
  // the one numbered `owner` (0 for none). Needs mutex_ held.
  void check_name_free(const std::string& name, uint64_t owner) const;

  mutable std::shared_mutex mutex_;
  std::map<uint64_t, game::Player> players_;         // guarded by mutex_
  std::map<std::string, uint64_t> numbers_by_name_;  // guarded by mutex_
  uint64_t next_number_ = 1;                         // guarded by mutex_
};

}  // namespace services

#endif  // SERVICES_PLAYER_PLAYER_STORE_H_
