#include "counter_names.h"

#include "handlers.h"
#include "sidecar/follower_fixture.h"

namespace sidecar_test {
namespace {

using telemetry::TelemetryCounter;

class CounterNamesTest : public FollowerTest {
 protected:
  void SetUp() override {
    a_ = std::make_unique<WriterChild>(dir_.path(), "ItemService", "9091");
    b_ = std::make_unique<WriterChild>(dir_.path(), "ItemService", "9092");
    a_->add(TelemetryCounter::SUCCESSFUL_REQUESTS, 5);
    b_->add(TelemetryCounter::SUCCESSFUL_REQUESTS, 6);
    b_->add(TelemetryCounter::ERROR_REQUESTS, 1);
    follower().scan_once();
  }

  sidecar::CounterHandler handler() {
    return sidecar::CounterHandler([this] { return follower().view(); },
                                   {"test", 1700000000999, dir_.path()});
  }

  std::unique_ptr<WriterChild> a_;
  std::unique_ptr<WriterChild> b_;
};

TEST_F(CounterNamesTest, NamesServiceTotalsAndInstances) {
  std::map<std::string, int64_t> all;
  handler().getCounters(all);
  EXPECT_EQ(all.at("ItemService.successful_requests"), 11);
  EXPECT_EQ(all.at("ItemService.error_requests"), 1);
  EXPECT_EQ(all.at("ItemService.9091.successful_requests"), 5);
  EXPECT_EQ(all.at("ItemService.9092.successful_requests"), 6);
  EXPECT_EQ(all.count("ItemService.SUCCESSFUL_REQUESTS"), 0u);
}

TEST_F(CounterNamesTest, MissingCounterReadsZero) {
  auto h = handler();
  EXPECT_EQ(h.getCounter("ItemService.successful_requests"), 11);
  EXPECT_EQ(h.getCounter("NoSuchService.successful_requests"), 0);
}

TEST_F(CounterNamesTest, SelectedCountersLeaveOutUnknownNames) {
  std::map<std::string, int64_t> some;
  handler().getSelectedCounters(some,
                                {"ItemService.9092.error_requests", "nope"});
  EXPECT_EQ(
      some,
      (std::map<std::string, int64_t>{{"ItemService.9092.error_requests", 1}}));
}

TEST_F(CounterNamesTest, RegexMatchesWholeNames) {
  std::map<std::string, int64_t> some;
  handler().getRegexCounters(some, R"(ItemService\.\d+\.successful_requests)");
  EXPECT_EQ(some, (std::map<std::string, int64_t>{
                      {"ItemService.9091.successful_requests", 5},
                      {"ItemService.9092.successful_requests", 6}}));
  handler().getRegexCounters(some, "successful");
  EXPECT_TRUE(some.empty());
}

TEST_F(CounterNamesTest, BadRegexRaisesInvalidRegex) {
  std::map<std::string, int64_t> some;
  try {
    handler().getRegexCounters(some, "(unclosed");
    FAIL() << "a bad pattern was accepted";
  } catch (const telemetry::sidecar::InvalidRegex& e) {
    EXPECT_EQ(e.pattern, "(unclosed");
    EXPECT_NE(e.message.find("does not compile"), std::string::npos);
  }
  EXPECT_THROW(handler().getRegexCounters(some, std::string(2000, 'a')),
               telemetry::sidecar::InvalidRegex);
}

TEST_F(CounterNamesTest, AliveSinceIsSidecarStartInSeconds) {
  EXPECT_EQ(handler().aliveSince(), 1700000000);
}

}  // namespace
}  // namespace sidecar_test
