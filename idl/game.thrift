// The game back end: an item catalogue, players and their inventories.
//
// Each service runs as its own process and keeps its data in memory: a
// restart starts from an empty store. Every service also answers the
// telemetry methods of BaseService.
//
// Ids are assigned by the service that owns the record, in the form
// "item-<n>" and "player-<n>" where <n> is a decimal number from 1 without
// leading zeros. A request that names an id in any other form is refused
// with InvalidInput; a well-formed id that names no record raises NotFound.
//
// Request structs mark their fields optional so that the server can tell a
// field that was left out from one that was sent: a field the method needs
// that is missing is refused with InvalidInput naming the field.

include "telemetry.thrift"

namespace cpp game
namespace py game

/** How hard an item is to come by. */
enum Rarity {
  COMMON = 1,
  UNCOMMON = 2,
  RARE = 3,
  EPIC = 4,
  LEGENDARY = 5,
}

/**
 * A request was refused before anything changed: a field is missing, a
 * value is out of range or an id is malformed.
 */
exception InvalidInput {
  /** Names the field and says what was expected, such as "name is missing". */
  1: string message,
}

/** The id in the request is well formed but names no record. */
exception NotFound {
  /** Names the id that was not found. */
  1: string message,
}

/** A player name is already used by another player. */
exception AlreadyExists {
  /** Names the name that is taken. */
  1: string message,
}

/** Adding the requested quantity would take an inventory over capacity. */
exception InventoryFull {
  /** Says how many units were requested and how many are free. */
  1: string message,
  /** Units the inventory can still take. */
  2: i32 free_units,
}

/** An item of the catalogue. */
struct Item {
  /** Assigned by the service at creation: "item-<n>". */
  1: required string item_id,
  /** 1 to 64 bytes, no control characters. */
  2: required string name,
  /** Up to 1024 bytes; may be empty. */
  3: required string description,
  4: required Rarity rarity,
  /** Price in coins, 0 or more. */
  5: required i64 price,
}

/** The fields of an item to create. */
struct NewItem {
  /** Required. 1 to 64 bytes, no control characters. */
  1: optional string name,
  /** Optional, empty when left out. Up to 1024 bytes. */
  2: optional string description,
  /** Required. One of the Rarity values. */
  3: optional Rarity rarity,
  /** Required. Price in coins, 0 or more. */
  4: optional i64 price,
}

/**
 * Changes to an item. Only the fields that are set change, under the same
 * rules as NewItem; at least one must be set.
 */
struct ItemChanges {
  1: optional string name,
  2: optional string description,
  3: optional Rarity rarity,
  4: optional i64 price,
}

/** One page of the catalogue, in order of creation. */
struct ItemPage {
  /** At most the requested limit of items, starting at the offset. */
  1: required list<Item> items,
  /** How many items the catalogue holds in all. */
  2: required i32 total,
}

/** A player of the game. */
struct Player {
  /** Assigned by the service at creation: "player-<n>". */
  1: required string player_id,
  /** Unique among players. 1 to 32 bytes, no control characters. */
  2: required string name,
  /** 1 to 100. */
  3: required i32 level,
  /** Experience points, 0 or more. */
  4: required i64 experience,
}

/** The fields of a player to create. */
struct NewPlayer {
  /** Required. Unique; 1 to 32 bytes, no control characters. */
  1: optional string name,
  /** Optional, 1 when left out. 1 to 100. */
  2: optional i32 level,
  /** Optional, 0 when left out. 0 or more. */
  3: optional i64 experience,
}

/**
 * Changes to a player. Only the fields that are set change, under the same
 * rules as NewPlayer; at least one must be set.
 */
struct PlayerChanges {
  1: optional string name,
  2: optional i32 level,
  3: optional i64 experience,
}

/** One page of the players, in order of creation. */
struct PlayerPage {
  /** At most the requested limit of players, starting at the offset. */
  1: required list<Player> players,
  /** How many players there are in all. */
  2: required i32 total,
}

/** How many units of one item an inventory holds. */
struct InventorySlot {
  1: required string item_id,
  /** 1 or more: an item whose last unit is removed leaves the inventory. */
  2: required i32 quantity,
}

/**
 * A player's inventory. It holds at most `capacity` units in all, whatever
 * the items.
 */
struct Inventory {
  1: required string player_id,
  /** One slot per item held, ordered by item number. */
  2: required list<InventorySlot> slots,
  /** Units held in all: the sum of the slots' quantities. */
  3: required i32 used_units,
  /** Units the inventory can hold in all. */
  4: required i32 capacity,
}

/** Units of one item to add to, or remove from, a player's inventory. */
struct InventoryChange {
  /** Required. "player-<n>". */
  1: optional string player_id,
  /** Required. "item-<n>". */
  2: optional string item_id,
  /** Required. 1 or more. */
  3: optional i32 quantity,
}

/** The item catalogue. */
service ItemService extends telemetry.BaseService {
  /**
   * Adds an item to the catalogue and returns it with its new id.
   * InvalidInput: name, rarity or price is missing, or a field breaks the
   * rules of NewItem.
   */
  Item create_item(1: NewItem item) throws (1: InvalidInput invalid),

  /**
   * Returns one item.
   * InvalidInput: item_id is empty or malformed. NotFound: no such item.
   */
  Item get_item(1: string item_id)
      throws (1: InvalidInput invalid, 2: NotFound not_found),

  /**
   * Returns up to `limit` items from position `offset` in order of creation;
   * an offset past the end gives an empty page.
   * InvalidInput: offset below 0, or limit outside 1 to 100.
   */
  ItemPage list_items(1: i32 offset, 2: i32 limit)
      throws (1: InvalidInput invalid),

  /**
   * Applies `changes` to an item and returns the item as it now is. Nothing
   * changes when the request is refused.
   * InvalidInput: item_id is empty or malformed, no field is set, or a set
   * field breaks the rules of NewItem. NotFound: no such item.
   */
  Item update_item(1: string item_id, 2: ItemChanges changes)
      throws (1: InvalidInput invalid, 2: NotFound not_found),

  /**
   * Removes an item from the catalogue. Inventories are kept by another
   * service and are not changed.
   * InvalidInput: item_id is empty or malformed. NotFound: no such item.
   */
  void delete_item(1: string item_id)
      throws (1: InvalidInput invalid, 2: NotFound not_found),
}

/** The players of the game. */
service PlayerService extends telemetry.BaseService {
  /**
   * Registers a player and returns it with its new id.
   * InvalidInput: name is missing, or a field breaks the rules of NewPlayer.
   * AlreadyExists: another player has that name.
   */
  Player create_player(1: NewPlayer player)
      throws (1: InvalidInput invalid, 2: AlreadyExists exists),

  /**
   * Returns one player.
   * InvalidInput: player_id is empty or malformed. NotFound: no such player.
   */
  Player get_player(1: string player_id)
      throws (1: InvalidInput invalid, 2: NotFound not_found),

  /**
   * Returns up to `limit` players from position `offset` in order of
   * creation; an offset past the end gives an empty page.
   * InvalidInput: offset below 0, or limit outside 1 to 100.
   */
  PlayerPage list_players(1: i32 offset, 2: i32 limit)
      throws (1: InvalidInput invalid),

  /**
   * Applies `changes` to a player and returns the player as it now is.
   * Nothing changes when the request is refused.
   * InvalidInput: player_id is empty or malformed, no field is set, or a set
   * field breaks the rules of NewPlayer. NotFound: no such player.
   * AlreadyExists: the new name belongs to another player.
   */
  Player update_player(1: string player_id, 2: PlayerChanges changes)
      throws (1: InvalidInput invalid, 2: NotFound not_found,
              3: AlreadyExists exists),
}

/**
 * The players' inventories. The service checks the form of player and item
 * ids but does not ask the other services whether they exist: it runs on
 * its own. A player who never received an item has an empty inventory.
 */
service InventoryService extends telemetry.BaseService {
  /**
   * Adds `quantity` units of an item to a player's inventory and returns
   * the inventory as it now is. Nothing changes when the request is refused.
   * InvalidInput: a field is missing, an id is malformed, or quantity is
   * below 1. InventoryFull: the units would not fit; free_units says how
   * many would.
   */
  Inventory add_item(1: InventoryChange change)
      throws (1: InvalidInput invalid, 2: InventoryFull full),

  /**
   * Takes `quantity` units of an item out of a player's inventory and
   * returns the inventory as it now is. Nothing changes when the request is
   * refused.
   * InvalidInput: a field is missing, an id is malformed, quantity is below
   * 1, or the inventory holds fewer units of the item than asked for.
   * NotFound: the inventory holds none of the item.
   */
  Inventory remove_item(1: InventoryChange change)
      throws (1: InvalidInput invalid, 2: NotFound not_found),

  /**
   * Returns a player's inventory; empty for a player who holds nothing.
   * InvalidInput: player_id is empty or malformed.
   */
  Inventory list_inventory(1: string player_id)
      throws (1: InvalidInput invalid),
}
