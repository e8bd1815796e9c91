// RawConnection: a plain TCP connection to a loopback port for tests that
// must send bytes no well-behaved client would send (garbage, half a
// message) and see exactly how many bytes went each way.
//
// Thread safety: one connection belongs to one thread at a time.
#ifndef TESTS_COMMON_RAW_CONNECTION_H_
#define TESTS_COMMON_RAW_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <string_view>

namespace test_support {

class RawConnection {
 public:
  // Connects to 127.0.0.1:`port`; throws std::runtime_error naming the
  // port when the connection is refused.
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends every byte of `bytes` (one write when the kernel takes it);
  // throws std::runtime_error when the connection fails.
  void send_all(std::string_view bytes);

  // Reads, counts and discards whatever arrives until the peer closes the
  // connection. Returns false when it is still open after `timeout`.
  bool wait_for_close(std::chrono::milliseconds timeout);

  // Closes the connection; later calls do nothing.
  void close();

  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  int fd_ = -1;
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;
};

}  // namespace test_support

#endif  // TESTS_COMMON_RAW_CONNECTION_H_
