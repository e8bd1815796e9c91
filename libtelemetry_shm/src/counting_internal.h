// Process-side state of counting that the manager switches between process
// memory and a mapped segment. Private to the library.
//
// Threads count into the stripes that switch_stripes() last named: the
// process-local stripes before start() and after stop(), the segment's in
// between. A thread keeps its stripe index across a switch.
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

// Sums cells 0..slot_count-1 over kStripeCount stripes starting at
// `stripes` into sums[0..slot_count-1], one stripe after the other: cheaper
// than sum_cells() per slot once more than a few slots are wanted.
void sum_slots(const layout::Stripe* stripes, uint32_t slot_count,
               uint64_t* sums);

}  // namespace telemetry_shm::internal

#endif  // TELEMETRY_SHM_SRC_COUNTING_INTERNAL_H_
