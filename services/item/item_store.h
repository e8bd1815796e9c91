// ItemStore: the item catalogue of the item service, kept in memory.
//
// The store assigns ids ("item-1", "item-2", ...) in order of creation and
// never reuses one, even after a delete. Every method checks its input
// first and changes nothing when it throws:
//
//   game::InvalidInput  a field is missing, out of range or malformed; the
//                       message names the field.
//   game::NotFound      a well-formed id names no item.
//
// Thread safety: every method may be called from any number of threads at
// once. Readers share a lock; writers take it alone.
#ifndef SERVICES_ITEM_ITEM_STORE_H_
#define SERVICES_ITEM_ITEM_STORE_H_

#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>

#include "game_types.h"

namespace services {

class ItemStore {
 public:
  static constexpr size_t kMaxNameBytes = 64;
  static constexpr size_t kMaxDescriptionBytes = 1024;

  // Adds an item. `name`, `rarity` and `price` are required; a missing
  // `description` is stored empty.
  game::Item create(const game::NewItem& item);

  game::Item get(const std::string& item_id) const;

  // Up to `limit` items (1 to kMaxPageSize) from position `offset` (0 or
  // more) in order of creation, and the number of items in all.
  game::ItemPage list(int32_t offset, int32_t limit) const;

  // Applies the fields set in `changes`; at least one must be set.
  game::Item update(const std::string& item_id,
                    const game::ItemChanges& changes);

  void remove(const std::string& item_id);

 private:
  mutable std::shared_mutex mutex_;
  std::map<uint64_t, game::Item> items_;  // guarded by mutex_
  uint64_t next_number_ = 1;              // guarded by mutex_
};

}  // namespace services

#endif  // SERVICES_ITEM_ITEM_STORE_H_
