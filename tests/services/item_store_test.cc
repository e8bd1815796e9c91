#include "services/item/item_store.h"

#include <gtest/gtest.h>

#include "services/exception_message.h"

#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace services {
namespace {

game::NewItem shield() {
  game::NewItem item;
  item.__set_name("Shield");
  item.__set_rarity(game::Rarity::COMMON);
  item.__set_price(40);
  return item;
}

TEST(ItemStoreTest, CreatesItemsWithIdsInOrder) {
  ItemStore store;
  const game::Item first = store.create(shield());
  const game::Item second = store.create(shield());
  EXPECT_EQ(first.item_id, "item-1");
  EXPECT_EQ(second.item_id, "item-2");
  EXPECT_EQ(first.name, "Shield");
  EXPECT_EQ(first.description, "");
  EXPECT_EQ(store.get("item-2"), second);
}

TEST(ItemStoreTest, RejectsEachMissingRequiredField) {
  ItemStore store;
  for (const char* field : {"name", "rarity", "price"}) {
    game::NewItem item = shield();
    if (std::string(field) == "name") item.__isset.name = false;
    if (std::string(field) == "rarity") item.__isset.rarity = false;
    if (std::string(field) == "price") item.__isset.price = false;
    EXPECT_EQ(message_of<game::InvalidInput>([&] { store.create(item); }),
              std::string(field) + " is missing");
  }
  EXPECT_EQ(store.list(0, 10).total, 0);
}

TEST(ItemStoreTest, RejectsOutOfRangeFields) {
  ItemStore store;
  game::NewItem item = shield();
  item.__set_price(-1);
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.create(item); }),
            "price must be from 0 to 9223372036854775807, got -1");

  // As the generated code stores a number from the wire that is no Rarity.
  item = shield();
  const int32_t nine = 9;
  std::memcpy(&item.rarity, &nine, sizeof(nine));
  EXPECT_NE(message_of<game::InvalidInput>([&] {
              store.create(item);
            }).find("rarity 9 is not a Rarity"),
            std::string::npos);

  item = shield();
  item.__set_name(std::string(ItemStore::kMaxNameBytes + 1, 'x'));
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.create(item); }),
            "name is 65 bytes long, at most 64 allowed");

  item = shield();
  item.__set_name("");
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.create(item); }),
            "name is empty");
}

TEST(ItemStoreTest, TellsMalformedIdsFromUnknownOnes) {
  ItemStore store;
  store.create(shield());
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.get(""); }),
            "item_id is missing");
  for (const char* id : {"item-", "item-0", "item-01", "item-x", "player-1",
                         "item-1 ", "item--1", "item-99999999999999999999"}) {
    EXPECT_NE(message_of<game::InvalidInput>([&] {
                store.get(id);
              }).find("is malformed"),
              std::string::npos)
        << id;
  }
  EXPECT_EQ(message_of<game::NotFound>([&] { store.get("item-2"); }),
            "item item-2 does not exist");
}

TEST(ItemStoreTest, ShortensALongMalformedIdInItsMessage) {
  ItemStore store;
  const std::string id(100000, 'x');
  const std::string message =
      message_of<game::InvalidInput>([&] { store.get(id); });
  EXPECT_EQ(message.rfind("item_id '" + std::string(40, 'x') + "...'", 0), 0u)
      << message;
  EXPECT_LT(message.size(), 200u);
}

TEST(ItemStoreTest, ListsPagesInOrderOfCreation) {
  ItemStore store;
  for (int i = 0; i < 5; ++i) store.create(shield());

  const game::ItemPage page = store.list(1, 3);
  EXPECT_EQ(page.total, 5);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].item_id, "item-2");
  EXPECT_EQ(page.items[2].item_id, "item-4");
  EXPECT_TRUE(store.list(10, 3).items.empty());
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.list(-1, 3); }),
            "offset must be from 0 to 2147483647, got -1");
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.list(0, 101); }),
            "limit must be from 1 to 100, got 101");
}

TEST(ItemStoreTest, UpdatesOnlyTheFieldsThatAreSet) {
  ItemStore store;
  const game::Item created = store.create(shield());
  game::ItemChanges changes;
  changes.__set_price(55);
  const game::Item updated = store.update(created.item_id, changes);
  EXPECT_EQ(updated.price, 55);
  EXPECT_EQ(updated.name, created.name);
  EXPECT_EQ(store.get(created.item_id), updated);
}

TEST(ItemStoreTest, RefusesAnUpdateThatChangesNothingOrBreaksARule) {
  ItemStore store;
  const game::Item created = store.create(shield());
  EXPECT_EQ(message_of<game::InvalidInput>(
                [&] { store.update(created.item_id, game::ItemChanges()); }),
            "changes set no field: nothing to update");

  game::ItemChanges changes;
  changes.__set_price(10);
  changes.__set_name("bad\nname");
  EXPECT_NE(message_of<game::InvalidInput>([&] {
              store.update(created.item_id, changes);
            }).find("name holds a control character"),
            std::string::npos);
  EXPECT_EQ(store.get(created.item_id), created);
  changes.__isset.name = false;
  EXPECT_EQ(
      message_of<game::NotFound>([&] { store.update("item-7", changes); }),
      "item item-7 does not exist");
}

TEST(ItemStoreTest, DeletesAnItemAndNeverReusesItsId) {
  ItemStore store;
  const game::Item created = store.create(shield());
  store.remove(created.item_id);
  EXPECT_THROW(store.get(created.item_id), game::NotFound);
  EXPECT_THROW(store.remove(created.item_id), game::NotFound);
  EXPECT_EQ(store.create(shield()).item_id, "item-2");
}

TEST(ItemStoreTest, GivesEveryConcurrentCreationItsOwnId) {
  ItemStore store;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ids[t].push_back(store.create(shield()).item_id);
        store.list(0, 10);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::string> unique;
  for (const auto& list : ids) unique.insert(list.begin(), list.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(store.list(0, 1).total, kThreads * kPerThread);
}

}  // namespace
}  // namespace services
