// ItemHandler: the item service's Thrift handler, answering ItemService
// from an ItemStore, and the telemetry methods through BaseServiceHandler.
//
// Thread safety: one handler serves every connection; its methods may run
// on any number of threads at once.
#ifndef SERVICES_ITEM_ITEM_HANDLER_H_
#define SERVICES_ITEM_ITEM_HANDLER_H_

#include <memory>
#include <string>

#include "ItemService.h"
#include "services/common/base_service_handler.h"
#include "services/item/item_store.h"

namespace services {

class ItemHandler : public game::ItemServiceIf, public BaseServiceHandler {
 public:
  static constexpr const char* kServiceName = "ItemService";

  explicit ItemHandler(ServiceIdentity identity);

  void create_item(game::Item& result, const game::NewItem& item) override;
  void get_item(game::Item& result, const std::string& item_id) override;
  void list_items(game::ItemPage& result, int32_t offset,
                  int32_t limit) override;
  void update_item(game::Item& result, const std::string& item_id,
                   const game::ItemChanges& changes) override;
  void delete_item(const std::string& item_id) override;

 private:
  ItemStore store_;
};

// A processor for ItemService served by a new ItemHandler.
std::shared_ptr<apache::thrift::TProcessor> make_item_processor(
    const ServiceIdentity& identity);

}  // namespace services

#endif  // SERVICES_ITEM_ITEM_HANDLER_H_
