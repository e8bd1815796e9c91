#include "services/inventory/inventory_store.h"

#include <fmt/format.h>

#include <limits>
#include <mutex>
#include <stdexcept>

#include "services/common/validation.h"

namespace services {
namespace {

constexpr std::string_view kPlayerPrefix = "player";
constexpr std::string_view kItemPrefix = "item";

}  // namespace

InventoryStore::InventoryStore(int32_t capacity) : capacity_(capacity) {
  if (capacity < 1) {
    throw std::invalid_argument(
        fmt::format("inventory capacity must be 1 or more, got {}", capacity));
  }
}

game::Inventory InventoryStore::add(const game::InventoryChange& change) {
  const CheckedChange checked = check(change);

  std::unique_lock lock(mutex_);
  Holdings& holdings = inventories_[checked.player];
  const int32_t free_units = capacity_ - holdings.used_units;
  if (checked.quantity > free_units) {
    game::InventoryFull error;
    error.free_units = free_units;
    error.message = fmt::format(
        "inventory of {} cannot take {} more units: {} of {} are free",
        change.player_id, checked.quantity, free_units, capacity_);
    if (holdings.used_units == 0) inventories_.erase(checked.player);
    throw error;
  }
  holdings.units_by_item[checked.item] += checked.quantity;
  holdings.used_units += checked.quantity;
  return describe(checked.player, holdings);
}

game::Inventory InventoryStore::remove(const game::InventoryChange& change) {
  const CheckedChange checked = check(change);

  std::unique_lock lock(mutex_);
  auto inventory = inventories_.find(checked.player);
  if (inventory == inventories_.end() ||
      !inventory->second.units_by_item.contains(checked.item)) {
    throw_not_found(fmt::format("inventory of {} holds no {}", change.player_id,
                                change.item_id));
  }

  Holdings& holdings = inventory->second;
  int32_t& held = holdings.units_by_item[checked.item];
  if (checked.quantity > held) {
    throw_invalid_input(
        fmt::format("quantity {} is more than the {} units of {} that {} holds",
                    checked.quantity, held, change.item_id, change.player_id));
  }
  held -= checked.quantity;
  holdings.used_units -= checked.quantity;
  if (held == 0) holdings.units_by_item.erase(checked.item);

  game::Inventory result = describe(checked.player, holdings);
  if (holdings.used_units == 0) inventories_.erase(inventory);
  return result;
}

game::Inventory InventoryStore::list(const std::string& player_id) const {
  const uint64_t player = parse_id("player_id", kPlayerPrefix, player_id);

  std::shared_lock lock(mutex_);
  auto inventory = inventories_.find(player);
  if (inventory == inventories_.end()) return describe(player, Holdings{});
  return describe(player, inventory->second);
}

InventoryStore::CheckedChange InventoryStore::check(
    const game::InventoryChange& change) {
  CheckedChange checked;
  require_field("player_id", change.__isset.player_id);
  checked.player = parse_id("player_id", kPlayerPrefix, change.player_id);
  require_field("item_id", change.__isset.item_id);
  checked.item = parse_id("item_id", kItemPrefix, change.item_id);
  require_field("quantity", change.__isset.quantity);
  check_range("quantity", change.quantity, 1,
              std::numeric_limits<int32_t>::max());
  checked.quantity = change.quantity;
  return checked;
}

game::Inventory InventoryStore::describe(uint64_t player,
                                         const Holdings& holdings) const {
  game::Inventory inventory;
  inventory.player_id = format_id(kPlayerPrefix, player);
  inventory.used_units = holdings.used_units;
  inventory.capacity = capacity_;
  for (const auto& [item, units] : holdings.units_by_item) {
    game::InventorySlot slot;
    slot.item_id = format_id(kItemPrefix, item);
    slot.quantity = units;
    inventory.slots.push_back(std::move(slot));
  }
  return inventory;
}

}  // namespace services
