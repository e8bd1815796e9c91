// InventoryHandler: the inventory service's Thrift handler, answering
// InventoryService from an InventoryStore, and the telemetry methods
// through BaseServiceHandler.
//
// Thread safety: one handler serves every connection; its methods may run
// on any number of threads at once.
#ifndef SERVICES_INVENTORY_INVENTORY_HANDLER_H_
#define SERVICES_INVENTORY_INVENTORY_HANDLER_H_

#include <memory>
#include <string>

#include "InventoryService.h"
#include "services/common/base_service_handler.h"
#include "services/inventory/inventory_store.h"

namespace services {

class InventoryHandler : public game::InventoryServiceIf,
                         public BaseServiceHandler {
 public:
  static constexpr const char* kServiceName = "InventoryService";

  explicit InventoryHandler(ServiceIdentity identity);

  void add_item(game::Inventory& result,
                const game::InventoryChange& change) override;
  void remove_item(game::Inventory& result,
                   const game::InventoryChange& change) override;
  void list_inventory(game::Inventory& result,
                      const std::string& player_id) override;

 private:
  InventoryStore store_;
};

// A processor for InventoryService served by a new InventoryHandler.
std::shared_ptr<apache::thrift::TProcessor> make_inventory_processor(
    const ServiceIdentity& identity);

}  // namespace services

#endif  // SERVICES_INVENTORY_INVENTORY_HANDLER_H_
