// The telemetry sidecar's own services. The sidecar reads the counter
// segments of every service instance on its host and serves them over one
// Thrift port with the multiplexed protocol:
//
//   "ItemService", "PlayerService", ...  BaseService (telemetry.thrift) for
//       each service found, answering with the total over its instances.
//       describe() names the service with an empty instance id, the
//       sidecar's version and start time. get_telemetry() raises
//       TelemetryUnavailable only for a service the sidecar has never
//       found; an instance whose segment turns unreadable keeps its last
//       good numbers in the total.
//   "TelemetrySidecar"  the whole host in one call, for pollers.
//   "CounterService"    fb303-style counter methods. Also the default
//       service: a client that does not speak the multiplexed protocol (its
//       method names carry no "Service:" prefix) reaches this one.
//
// A call naming a service the sidecar does not serve is answered with a
// TApplicationException of type UNKNOWN_METHOD whose message names the
// service. The connection stays usable.
//
// Every count only grows, also across restarts of a service and of the
// sidecar: when the sidecar removes the segment of an instance that has been
// dead longer than its retention, it adds that segment's final counts to the
// service's "retired" counts, which it keeps in a state file.

include "telemetry.thrift"

namespace cpp telemetry.sidecar
namespace py telemetry_sidecar

/** One service instance, as its segment describes it. */
struct InstanceInfo {
  1: required string service_name,
  2: required string instance_id,
  /** True while the instance's process holds its segment and is not hung. */
  3: required bool alive,
  /** "alive", "stale" (holds its segment, heartbeat stopped), "stopped"
   *  (exited cleanly) or "dead" (exited without stopping). */
  4: required string liveness,
  /** When the instance's current (or last) process started counting,
   *  milliseconds since the Unix epoch. */
  5: required i64 start_time_ms,
  /** Processes that have counted into the segment: 1, then +1 a restart. */
  6: required i64 generation,
  /** The segment file the numbers come from. */
  7: required string segment_path,
}

/** A service and its instances, without counters. */
struct ServiceInfo {
  1: required string service_name,
  /** True when any instance is alive. */
  2: required bool alive,
  /** Sorted by instance id. May be empty when every segment of the
   *  service was removed and only retired counts remain. */
  3: required list<InstanceInfo> instances,
}

/** The counters of one service: the total and where it comes from. */
struct ServiceTelemetry {
  1: required string service_name,
  /**
   * The total over the instances plus the retired counts: exactly what
   * BaseService.get_telemetry() through the sidecar returns.
   */
  2: required telemetry.TelemetrySnapshot total,
  /** One snapshot per instance whose segment is present, by instance id. */
  3: required list<telemetry.TelemetrySnapshot> instances,
  /**
   * Final counts of removed segments, by stored counter name (such as
   * "BYTES_SENT"). Empty when no segment of the service was removed.
   */
  4: required map<string, i64> retired,
}

/** Everything the sidecar serves, read at one moment. */
struct SidecarTelemetry {
  /** When the sidecar answered, milliseconds since the Unix epoch. */
  1: required i64 snapshot_timestamp_ms,
  /** When the sidecar started, milliseconds since the Unix epoch. */
  2: required i64 sidecar_start_time_ms,
  /** The directory the sidecar reads segments from. */
  3: required string telemetry_dir,
  /** Sorted by service name. */
  4: required list<ServiceTelemetry> services,
}

/**
 * The poller's view of the whole host. Neither method raises a declared
 * exception: a segment that cannot be read is left out (and logged by the
 * sidecar), and an instance whose segment turns unreadable after it was
 * read keeps its last good numbers. A transport failure surfaces as the
 * client's usual transport exception.
 */
service TelemetrySidecar {
  /** Every service and instance with its liveness, without counters. */
  list<ServiceInfo> list_services(),

  /** Every service's total and per-instance counters in one call. */
  SidecarTelemetry get_all_telemetry(),
}

/** Raised by getRegexCounters for a pattern that does not compile. */
exception InvalidRegex {
  /** The pattern as received. */
  1: required string pattern,
  /** Why it was refused. */
  2: required string message,
}

/**
 * Counters in the style of fb303, for pollers that already speak it.
 *
 * Counter names are "<service>.<counter>" for a service's total (the same
 * numbers as BaseService.get_telemetry() through the sidecar) and
 * "<service>.<instance>.<counter>" for one instance whose segment is
 * present, where <counter> is the stored counter name in lower case, such
 * as "ItemService.successful_requests" or
 * "ItemService.9091.successful_requests". Values above 2^63-1 read as
 * 2^63-1.
 */
service CounterService {
  /** Every counter by name. */
  map<string, i64> getCounters(),

  /**
   * One counter's value. A name that is not a counter returns 0, the same
   * as a counter that has not counted yet; use getSelectedCounters to tell
   * the two apart.
   */
  i64 getCounter(1: string key),

  /**
   * The named counters. A name that is not a counter is left out of the
   * result; an empty list returns an empty map.
   */
  map<string, i64> getSelectedCounters(1: list<string> keys),

  /**
   * The counters whose whole name matches `regex` (ECMAScript syntax, as
   * in std::regex). Raises InvalidRegex when the pattern does not compile
   * or is longer than 1024 characters.
   */
  map<string, i64> getRegexCounters(1: string regex)
      throws (1: InvalidRegex invalid),

  /** When the sidecar started, in seconds since the Unix epoch. */
  i64 aliveSince(),
}
