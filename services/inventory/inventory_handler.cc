#include "services/inventory/inventory_handler.h"

#include <utility>

namespace services {
namespace {

std::vector<std::string> inventory_methods() {
  std::vector<std::string> methods = base_service_methods();
  methods.insert(methods.end(), {"add_item", "remove_item", "list_inventory"});
  return methods;
}

}  // namespace

InventoryHandler::InventoryHandler(ServiceIdentity identity)
    : BaseServiceHandler(std::move(identity), inventory_methods()) {}

void InventoryHandler::add_item(game::Inventory& result,
                                const game::InventoryChange& change) {
  result = store_.add(change);
}

void InventoryHandler::remove_item(game::Inventory& result,
                                   const game::InventoryChange& change) {
  result = store_.remove(change);
}

void InventoryHandler::list_inventory(game::Inventory& result,
                                      const std::string& player_id) {
  result = store_.list(player_id);
}

std::shared_ptr<apache::thrift::TProcessor> make_inventory_processor(
    const ServiceIdentity& identity) {
  return std::make_shared<game::InventoryServiceProcessor>(
      std::make_shared<InventoryHandler>(identity));
}

}  // namespace services
