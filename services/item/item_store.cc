#include "services/item/item_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <mutex>
#include <type_traits>

#include "services/common/validation.h"

namespace services {
namespace {

constexpr std::string_view kIdPrefix = "item";

// Rejects a rarity that is none of the Rarity values. A client can send
// any number there, and loading a number outside the enum as the enum type
// is undefined, so the field is read through its bytes.
void check_rarity(const game::Rarity::type& rarity) {
  std::underlying_type_t<game::Rarity::type> raw;
  static_assert(sizeof(raw) == sizeof(rarity));
  std::memcpy(&raw, &rarity, sizeof(raw));
  const auto number = static_cast<int32_t>(raw);
  if (game::_Rarity_VALUES_TO_NAMES.count(number) == 0) {
    throw_invalid_input(fmt::format(
        "rarity {} is not a Rarity: expected 1 (COMMON) to 5 (LEGENDARY)",
        number));
  }
}

void check_price(int64_t price) {
  check_range("price", price, 0, std::numeric_limits<int64_t>::max());
}

// Checks every field that `changes` sets, under the rules of NewItem.
void check_changes(const game::ItemChanges& changes) {
  const auto& set = changes.__isset;
  if (!set.name && !set.description && !set.rarity && !set.price) {
    throw_invalid_input("changes set no field: nothing to update");
  }
  if (set.name) check_name("name", changes.name, ItemStore::kMaxNameBytes);
  if (set.description) {
    check_length("description", changes.description,
                 ItemStore::kMaxDescriptionBytes);
  }
  if (set.rarity) check_rarity(changes.rarity);
  if (set.price) check_price(changes.price);
}

// The item numbered `number` in `items`; throws game::NotFound naming
// `item_id`. Works on the const and the mutable map alike.
template <typename Items>
auto& find_item(Items& items, const std::string& item_id, uint64_t number) {
  auto it = items.find(number);
  if (it == items.end()) {
    throw_not_found(fmt::format("item {} does not exist", item_id));
  }
  return it->second;
}

}  // namespace

game::Item ItemStore::create(const game::NewItem& item) {
  require_field("name", item.__isset.name);
  check_name("name", item.name, kMaxNameBytes);
  check_length("description", item.description, kMaxDescriptionBytes);
  require_field("rarity", item.__isset.rarity);
  check_rarity(item.rarity);
  require_field("price", item.__isset.price);
  check_price(item.price);

  game::Item created;
  created.name = item.name;
  created.description = item.__isset.description ? item.description : "";
  created.rarity = item.rarity;
  created.price = item.price;

  std::unique_lock lock(mutex_);
  const uint64_t number = next_number_++;
  created.item_id = format_id(kIdPrefix, number);
  items_.emplace(number, created);
  return created;
}

game::Item ItemStore::get(const std::string& item_id) const {
  const uint64_t number = parse_id("item_id", kIdPrefix, item_id);
  std::shared_lock lock(mutex_);
  return find_item(items_, item_id, number);
}

game::ItemPage ItemStore::list(int32_t offset, int32_t limit) const {
  check_page(offset, limit);

  game::ItemPage page;
  std::shared_lock lock(mutex_);
  page.total = static_cast<int32_t>(items_.size());
  auto it = items_.begin();
  std::advance(it, std::min<size_t>(offset, items_.size()));
  for (; it != items_.end() && std::ssize(page.items) < limit; ++it) {
    page.items.push_back(it->second);
  }
  return page;
}

game::Item ItemStore::update(const std::string& item_id,
                             const game::ItemChanges& changes) {
  const uint64_t number = parse_id("item_id", kIdPrefix, item_id);
  check_changes(changes);

  std::unique_lock lock(mutex_);
  game::Item& item = find_item(items_, item_id, number);
  if (changes.__isset.name) item.name = changes.name;
  if (changes.__isset.description) item.description = changes.description;
  if (changes.__isset.rarity) item.rarity = changes.rarity;
  if (changes.__isset.price) item.price = changes.price;
  return item;
}

void ItemStore::remove(const std::string& item_id) {
  const uint64_t number = parse_id("item_id", kIdPrefix, item_id);
  std::unique_lock lock(mutex_);
  if (items_.erase(number) == 0) {
    throw_not_found(fmt::format("item {} does not exist", item_id));
  }
}

}  // namespace services
