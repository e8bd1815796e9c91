// Telemetry exported by every service: the counter keys, the snapshot a
// poller receives, and the base service that every game service extends.

namespace cpp telemetry
namespace py telemetry

/**
 * The counters every service keeps. A key's number is its identity: it is
 * stored in shared memory together with the key's name, so numbers are never
 * reused or renumbered. New keys take the next free number. Numbers run from
 * 1 without gaps; the counter library holds at most 64 of them.
 */
enum TelemetryCounter {
  /** Bytes read from client connections, as they came off the wire. */
  BYTES_RECEIVED = 1,
  /** Bytes written to client connections, as they went onto the wire. */
  BYTES_SENT = 2,
  /** Calls answered with a normal reply (no exception of any kind). */
  SUCCESSFUL_REQUESTS = 3,
  /**
   * Calls that failed: a declared exception, an undeclared exception, an
   * unknown method name, or a message that could not be parsed.
   */
  ERROR_REQUESTS = 4,
}

/**
 * One counter as read from a writer's shared memory. `name` comes from the
 * segment, so a counter that this IDL does not know yet is still reported.
 */
struct CounterValue {
  1: required i32 key,
  2: required string name,
  3: required i64 value,
}

/**
 * The counters of one service (or one instance of it) at one moment.
 * Counters are read one after the other, not atomically as a set: two
 * counters may be read microseconds apart. Every value only ever grows, also
 * across restarts of the service and of the sidecar.
 */
struct TelemetrySnapshot {
  /** Counter values by key, for the keys this IDL knows. */
  1: required map<TelemetryCounter, i64> counters,
  /** When the snapshot was taken, milliseconds since the Unix epoch. */
  2: required i64 snapshot_timestamp_ms,
  /** The service's name, such as "ItemService". */
  3: required string service_name,
  /**
   * The instance id, such as "9091". Empty when the snapshot is a total
   * over several instances of the service.
   */
  4: required string instance_id,
  /**
   * When the current process of this instance started counting, in
   * milliseconds since the Unix epoch. For a total over instances: the most
   * recent start among them.
   */
  5: required i64 start_time_ms,
  /**
   * How many processes have counted into this instance's segment: 1 for the
   * first, one more for every restart. For a total: the sum over instances.
   */
  6: required i64 generation,
  /**
   * True while the writer holds its segment lock and its heartbeat is fresh.
   * For a total: true when any instance is alive.
   */
  7: required bool alive,
  /** Every counter with its stored name, including keys this IDL lacks. */
  8: required list<CounterValue> all_counters,
}

/** What a service says about itself. */
struct ServiceMetadata {
  1: required string service_name,
  2: required string instance_id,
  /** Version of the program serving the call. */
  3: required string version,
  /** Milliseconds since the Unix epoch when the serving process started. */
  4: required i64 start_time_ms,
  /** The methods this service answers, in IDL order. */
  5: required list<string> methods,
}

/** Raised when telemetry cannot be read, with the reason. */
exception TelemetryUnavailable {
  1: required string message,
}

/**
 * Implemented by every game service, and by the telemetry sidecar once for
 * each service it serves.
 */
service BaseService {
  /**
   * Describes the service. Never fails on a healthy server; a transport
   * failure surfaces as the client's usual transport exception.
   */
  ServiceMetadata describe(),

  /**
   * The service's current counters. Served by a service itself, the
   * snapshot does not include the call that returns it: that call is
   * counted once its reply has been written. Served by the sidecar, the
   * counters are the total over the service's instances. Raises
   * TelemetryUnavailable when the counters cannot be read (for example the
   * service has not started counting, or its segment is corrupt); the
   * message says why.
   */
  TelemetrySnapshot get_telemetry() throws (1: TelemetryUnavailable unavailable),
}
