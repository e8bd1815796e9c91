#include "services/player/player_store.h"

#include <gtest/gtest.h>

#include "services/exception_message.h"

#include <atomic>
#include <thread>
#include <vector>

namespace services {
namespace {

game::NewPlayer named(const std::string& name) {
  game::NewPlayer player;
  player.__set_name(name);
  return player;
}

TEST(PlayerStoreTest, CreatesAPlayerWithDefaults) {
  PlayerStore store;
  const game::Player player = store.create(named("ada"));
  EXPECT_EQ(player.player_id, "player-1");
  EXPECT_EQ(player.level, 1);
  EXPECT_EQ(player.experience, 0);
  EXPECT_EQ(store.get("player-1"), player);
}

TEST(PlayerStoreTest, RejectsAMissingNameAndBadNumbers) {
  PlayerStore store;
  EXPECT_EQ(
      message_of<game::InvalidInput>([&] { store.create(game::NewPlayer()); }),
      "name is missing");
  game::NewPlayer player = named("bob");
  player.__set_level(0);
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.create(player); }),
            "level must be from 1 to 100, got 0");
  player = named("bob");
  player.__set_experience(-5);
  EXPECT_EQ(message_of<game::InvalidInput>([&] { store.create(player); }),
            "experience must be from 0 to 9223372036854775807, got -5");
  EXPECT_EQ(store.list(0, 10).total, 0);
}

TEST(PlayerStoreTest, RefusesANameThatIsTaken) {
  PlayerStore store;
  store.create(named("ada"));
  EXPECT_EQ(
      message_of<game::AlreadyExists>([&] { store.create(named("ada")); }),
      "name 'ada' is taken by player player-1");
  const game::Player bob = store.create(named("bob"));

  game::PlayerChanges rename;
  rename.__set_name("ada");
  EXPECT_THROW(store.update(bob.player_id, rename), game::AlreadyExists);
  EXPECT_EQ(store.get(bob.player_id).name, "bob");
}

TEST(PlayerStoreTest, RenamingFreesTheOldName) {
  PlayerStore store;
  const game::Player ada = store.create(named("ada"));
  game::PlayerChanges rename;
  rename.__set_name("lovelace");
  rename.__set_level(7);
  const game::Player renamed = store.update(ada.player_id, rename);
  EXPECT_EQ(renamed.name, "lovelace");
  EXPECT_EQ(renamed.level, 7);
  EXPECT_EQ(store.create(named("ada")).player_id, "player-2");
}

TEST(PlayerStoreTest, RejectsAnEmptyUpdateAndUnknownPlayers) {
  PlayerStore store;
  const game::Player ada = store.create(named("ada"));
  EXPECT_EQ(message_of<game::InvalidInput>(
                [&] { store.update(ada.player_id, game::PlayerChanges()); }),
            "changes set no field: nothing to update");
  game::PlayerChanges changes;
  changes.__set_level(3);
  EXPECT_EQ(
      message_of<game::NotFound>([&] { store.update("player-9", changes); }),
      "player player-9 does not exist");
  EXPECT_NE(message_of<game::InvalidInput>([&] {
              store.get("item-1");
            }).find("player_id 'item-1' is malformed"),
            std::string::npos);
}

TEST(PlayerStoreTest, ListsPlayersInOrderOfCreation) {
  PlayerStore store;
  for (const char* name : {"a", "b", "c"}) store.create(named(name));
  const game::PlayerPage page = store.list(2, 5);
  EXPECT_EQ(page.total, 3);
  ASSERT_EQ(page.players.size(), 1u);
  EXPECT_EQ(page.players[0].name, "c");
}

TEST(PlayerStoreTest, LetsOnlyOneOfManyRacingThreadsTakeAName) {
  PlayerStore store;
  constexpr int kThreads = 8;
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        try {
          store.create(named("name-" + std::to_string(i)));
          ++created;
        } catch (const game::AlreadyExists&) {
          ++refused;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 100);
  EXPECT_EQ(refused.load(), 100 * (kThreads - 1));
  EXPECT_EQ(store.list(0, 1).total, 100);
}

}  // namespace
}  // namespace services
