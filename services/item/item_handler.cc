#include "services/item/item_handler.h"

#include <utility>

namespace services {
namespace {

std::vector<std::string> item_methods() {
  std::vector<std::string> methods = base_service_methods();
  methods.insert(methods.end(), {"create_item", "get_item", "list_items",
                                 "update_item", "delete_item"});
  return methods;
}

}  // namespace

ItemHandler::ItemHandler(ServiceIdentity identity)
    : BaseServiceHandler(std::move(identity), item_methods()) {}

void ItemHandler::create_item(game::Item& result, const game::NewItem& item) {
  result = store_.create(item);
}

void ItemHandler::get_item(game::Item& result, const std::string& item_id) {
  result = store_.get(item_id);
}

void ItemHandler::list_items(game::ItemPage& result, int32_t offset,
                             int32_t limit) {
  result = store_.list(offset, limit);
}

void ItemHandler::update_item(game::Item& result, const std::string& item_id,
                              const game::ItemChanges& changes) {
  result = store_.update(item_id, changes);
}

void ItemHandler::delete_item(const std::string& item_id) {
  store_.remove(item_id);
}

std::shared_ptr<apache::thrift::TProcessor> make_item_processor(
    const ServiceIdentity& identity) {
  return std::make_shared<game::ItemServiceProcessor>(
      std::make_shared<ItemHandler>(identity));
}

}  // namespace services
