// Process-side state of counting that the manager switches between process
// memory and a mapped segment. Private to the library.
//
// Threads count into `current_stripes()`: the process-local stripes before
// start() and after stop(), the segment's stripes in between. Switching
// stores the new base and then bumps the epoch, so a thread that sees the
// new epoch also sees the new base.
#ifndef TELEMETRY_SHM_SRC_COUNTING_INTERNAL_H_
#define TELEMETRY_SHM_SRC_COUNTING_INTERNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "telemetry_shm/segment_layout.h"

namespace telemetry_shm::internal {

// The stripes that hold counts while no segment is attached.
layout::Stripe* local_stripes();

// Points every counting thread at `stripes` (kStripeCount of them).
void switch_stripes(layout::Stripe* stripes);

// The IDL's counter keys, 1..N, with their names at index key - 1.
const std::vector<std::string>& known_counter_names();

// Sum of cell `slot` over kStripeCount stripes starting at `stripes`.
uint64_t sum_cells(const layout::Stripe* stripes, uint32_t slot);

}  // namespace telemetry_shm::internal

#endif  // TELEMETRY_SHM_SRC_COUNTING_INTERNAL_H_
