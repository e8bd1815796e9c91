#include "services/inventory/inventory_store.h"

#include <gtest/gtest.h>

#include "services/exception_message.h"

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace services {
namespace {

game::InventoryChange change(const std::string& player, const std::string& item,
                             int32_t quantity) {
  game::InventoryChange c;
  c.__set_player_id(player);
  c.__set_item_id(item);
  c.__set_quantity(quantity);
  return c;
}

TEST(InventoryStoreTest, AddsUnitsAndListsSlotsByItemNumber) {
  InventoryStore store(50);
  store.add(change("player-1", "item-10", 3));
  store.add(change("player-1", "item-2", 4));
  const game::Inventory inventory = store.add(change("player-1", "item-10", 1));

  EXPECT_EQ(inventory.player_id, "player-1");
  EXPECT_EQ(inventory.used_units, 8);
  EXPECT_EQ(inventory.capacity, 50);
  ASSERT_EQ(inventory.slots.size(), 2u);
  EXPECT_EQ(inventory.slots[0].item_id, "item-2");
  EXPECT_EQ(inventory.slots[0].quantity, 4);
  EXPECT_EQ(inventory.slots[1].item_id, "item-10");
  EXPECT_EQ(inventory.slots[1].quantity, 4);
  EXPECT_EQ(store.list("player-1"), inventory);
}

TEST(InventoryStoreTest, GivesAPlayerWithoutItemsAnEmptyInventory) {
  InventoryStore store;
  const game::Inventory inventory = store.list("player-7");
  EXPECT_EQ(inventory.player_id, "player-7");
  EXPECT_TRUE(inventory.slots.empty());
  EXPECT_EQ(inventory.used_units, 0);
  EXPECT_EQ(inventory.capacity, InventoryStore::kDefaultCapacity);
}

TEST(InventoryStoreTest, RejectsEachMissingField) {
  InventoryStore store;
  game::InventoryChange c = change("player-1", "item-1", 1);
  c.__isset.player_id = false;
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.add(c); }),
            "player_id is missing");
  c = change("player-1", "item-1", 1);
  c.__isset.item_id = false;
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.add(c); }),
            "item_id is missing");
  c = change("player-1", "item-1", 1);
  c.__isset.quantity = false;
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.remove(c); }),
            "quantity is missing");
}

TEST(InventoryStoreTest, RejectsZeroAndNegativeQuantities) {
  InventoryStore store;
  EXPECT_EQ(message_of<game::InvalidInput>(
                [&] { store.add(change("player-1", "item-1", 0)); }),
            "quantity must be from 1 to 2147483647, got 0");
  EXPECT_EQ(message_of<game::InvalidInput>(
                [&] { store.remove(change("player-1", "item-1", -3)); }),
            "quantity must be from 1 to 2147483647, got -3");
  EXPECT_EQ(store.list("player-1").used_units, 0);
}

TEST(InventoryStoreTest, RejectsMalformedIds) {
  InventoryStore store;
  EXPECT_NE(message_of<game::InvalidInput>([&] {
              store.add(change("item-1", "item-1", 1));
            }).find("player_id 'item-1' is malformed"),
            std::string::npos);
  EXPECT_NE(message_of<game::InvalidInput>([&] {
              store.add(change("player-1", "sword", 1));
            }).find("item_id 'sword' is malformed"),
            std::string::npos);
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.list(""); }),
            "player_id is missing");
}

TEST(InventoryStoreTest, RefusesUnitsBeyondCapacityAndSaysWhatIsFree) {
  InventoryStore store(10);
  store.add(change("player-1", "item-1", 7));
  try {
    store.add(change("player-1", "item-2", 4));
    ADD_FAILURE() << "an addition over capacity was accepted";
  } catch (const game::InventoryFull& full) {
    EXPECT_EQ(full.free_units, 3);
    EXPECT_EQ(full.message,
              "inventory of player-1 cannot take 4 more units: 3 of 10 are "
              "free");
  }
  EXPECT_EQ(store.list("player-1").used_units, 7);
  EXPECT_EQ(store.add(change("player-1", "item-2", 3)).used_units, 10);
}

TEST(InventoryStoreTest, RefusesMoreThanCapacityForAnEmptyInventory) {
  InventoryStore store(5);
  EXPECT_THROW(store.add(change("player-2", "item-1", 6)), game::InventoryFull);
  EXPECT_EQ(store.list("player-2").used_units, 0);
}

TEST(InventoryStoreTest, RemovesUnitsAndDropsEmptySlots) {
  InventoryStore store;
  store.add(change("player-1", "item-1", 5));
  store.add(change("player-1", "item-2", 1));
  game::Inventory inventory = store.remove(change("player-1", "item-1", 2));
  EXPECT_EQ(inventory.used_units, 4);
  inventory = store.remove(change("player-1", "item-1", 3));
  ASSERT_EQ(inventory.slots.size(), 1u);
  EXPECT_EQ(inventory.slots[0].item_id, "item-2");
}

TEST(InventoryStoreTest, RefusesToRemoveWhatIsNotThere) {
  InventoryStore store;
  EXPECT_EQ(message_of<game::NotFound>(
                [&] { store.remove(change("player-1", "item-1", 1)); }),
            "inventory of player-1 holds no item-1");
  store.add(change("player-1", "item-1", 2));
  EXPECT_EQ(message_of<game::InvalidInput>(
                [&] { store.remove(change("player-1", "item-1", 3)); }),
            "quantity 3 is more than the 2 units of item-1 that player-1 "
            "holds");
  EXPECT_EQ(store.list("player-1").used_units, 2);
}

TEST(InventoryStoreTest, RejectsACapacityBelowOne) {
  EXPECT_THROW(InventoryStore(0), std::invalid_argument);
}

TEST(InventoryStoreTest, NeverExceedsCapacityUnderConcurrentAdditions) {
  constexpr int32_t kCapacity = 500;
  InventoryStore store(kCapacity);
  constexpr int kThreads = 8;
  constexpr int kAttempts = 200;
  std::atomic<int32_t> accepted_units{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string item = "item-" + std::to_string(t + 1);
      for (int i = 0; i < kAttempts; ++i) {
        const int32_t quantity = 1 + (i + t) % 3;
        try {
          const game::Inventory after =
              store.add(change("player-1", item, quantity));
          EXPECT_LE(after.used_units, kCapacity);
          accepted_units += quantity;
        } catch (const game::InventoryFull& full) {
          EXPECT_LT(full.free_units, quantity);
          ++refused;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  const game::Inventory inventory = store.list("player-1");
  EXPECT_EQ(inventory.used_units, accepted_units.load());
  EXPECT_LE(inventory.used_units, kCapacity);
  EXPECT_GT(refused.load(), 0);
  int32_t sum = 0;
  for (const auto& slot : inventory.slots) sum += slot.quantity;
  EXPECT_EQ(sum, inventory.used_units);
}

}  // namespace
}  // namespace services
