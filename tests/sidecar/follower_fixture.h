// A SegmentFollower over a temporary directory, with its log captured, for
// the tests that read segments written by WriterChild processes.
#ifndef TESTS_SIDECAR_FOLLOWER_FIXTURE_H_
#define TESTS_SIDECAR_FOLLOWER_FIXTURE_H_

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

#include "host_view.h"
#include "segment_follower.h"
#include "sidecar/sidecar_test_support.h"

namespace sidecar_test {

class FollowerTest : public ::testing::Test {
 protected:
  FollowerTest() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    logger_ = std::make_shared<spdlog::logger>("follower-test", sink);
    logger_->set_level(spdlog::level::debug);
    options_.directory = dir_.path();
    options_.state_file = dir_.path() + "/.state";
  }

  sidecar::SegmentFollower& follower() {
    if (!follower_) {
      follower_ = std::make_unique<sidecar::SegmentFollower>(options_, logger_);
    }
    return *follower_;
  }

  // Forgets the follower, as a restart of the sidecar would.
  void restart_follower() { follower_.reset(); }

  // Scans once and reads `service` now; fails the test when it is absent.
  sidecar::ServiceReading read(const std::string& service) {
    follower().scan_once();
    auto view = follower().view();
    auto it = view->services.find(service);
    if (it == view->services.end()) {
      ADD_FAILURE() << "service " << service << " is not in the view";
      return {};
    }
    return sidecar::read_service(it->first, it->second);
  }

  std::string log() const { return log_.str(); }

  TempDir dir_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> logger_;
  sidecar::FollowerOptions options_;
  std::unique_ptr<sidecar::SegmentFollower> follower_;
};

}  // namespace sidecar_test

#endif  // TESTS_SIDECAR_FOLLOWER_FIXTURE_H_
