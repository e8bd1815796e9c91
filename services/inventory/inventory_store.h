// InventoryStore: the players' inventories of the inventory service, kept
// in memory.
//
// Every inventory holds at most `capacity` units in all, whatever the
// items. The store checks the form of player and item ids but knows
// nothing of the records behind them: that belongs to the other services.
// A player who never received an item has an empty inventory. Every method
// checks its input first and changes nothing when it throws:
//
//   game::InvalidInput   a field is missing, out of range or malformed (the
//                        message names the field), or a removal asks for
//                        more units than the inventory holds.
//   game::InventoryFull  an addition would go over capacity.
//   game::NotFound       a removal names an item the inventory lacks.
//
// Thread safety: every method may be called from any number of threads at
// once. The capacity check and the addition happen under one lock, so
// concurrent additions never take an inventory over capacity.
#ifndef SERVICES_INVENTORY_INVENTORY_STORE_H_
#define SERVICES_INVENTORY_INVENTORY_STORE_H_

#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>

#include "game_types.h"

namespace services {

class InventoryStore {
 public:
  static constexpr int32_t kDefaultCapacity = 100;

  // Throws std::invalid_argument when `capacity` is below 1.
  explicit InventoryStore(int32_t capacity = kDefaultCapacity);

  // Adds `quantity` units of `item_id` to `player_id`'s inventory; every
  // field is required and quantity must be 1 or more.
  game::Inventory add(const game::InventoryChange& change);

  // Takes `quantity` units of `item_id` out of `player_id`'s inventory;
  // every field is required and quantity must be 1 or more.
  game::Inventory remove(const game::InventoryChange& change);

  game::Inventory list(const std::string& player_id) const;

  int32_t capacity() const { return capacity_; }

 private:
  // Units held per item number, and their sum.
  struct Holdings {
    std::map<uint64_t, int32_t> units_by_item;
    int32_t used_units = 0;
  };

  // A change with every field present and well formed.
  struct CheckedChange {
    uint64_t player = 0;
    uint64_t item = 0;
    int32_t quantity = 0;
  };
  static CheckedChange check(const game::InventoryChange& change);

  // The Thrift form of `holdings` for player number `player`.
  game::Inventory describe(uint64_t player, const Holdings& holdings) const;

  const int32_t capacity_;
  mutable std::shared_mutex mutex_;
  std::map<uint64_t, Holdings> inventories_;  // by player number; mutex_
};

}  // namespace services

#endif  // SERVICES_INVENTORY_INVENTORY_STORE_H_
