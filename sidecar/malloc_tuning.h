// How the sidecar sets up glibc's allocator for its polls.
//
// A poll of a large host builds a reply of several MiB that lives for a
// few milliseconds. With glibc's defaults that costs twice: every polling
// thread gets an arena of its own that keeps its peak resident, and each
// large buffer is mapped on its own and handed back to the kernel when
// freed, so the next poll faults in fresh pages.
//
// Thread safety: call once, at the start of main(), before any thread.
#ifndef SIDECAR_MALLOC_TUNING_H_
#define SIDECAR_MALLOC_TUNING_H_

namespace sidecar {

// Limits glibc to two arenas and keeps up to 16 MiB of freed heap for the
// next poll instead of returning it to the kernel.
void tune_malloc_for_polls();

}  // namespace sidecar

#endif  // SIDECAR_MALLOC_TUNING_H_
