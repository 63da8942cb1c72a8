#include "cairn/abi.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace cairn {
namespace {

TEST(AbiTest, BufferFilledByOneSideIsReleasedByItsOwnCallback) {
  cairn_buffer buffer{};
  FillBuffer(&buffer, "payload");
  ASSERT_NE(buffer.release, nullptr);
  EXPECT_EQ(TakeBuffer(&buffer), "payload");
  EXPECT_EQ(buffer.data, nullptr);
  EXPECT_EQ(buffer.release, nullptr);
}

TEST(AbiTest, GuardedCallTurnsExceptionsIntoInternalWithTheEntryPointName) {
  cairn_error error{};
  int32_t code =
      GuardedCall(&error, "execute", []() -> Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(code, CAIRN_CODE_INTERNAL);
  Status status = StatusFromAbi(code, &error);
  EXPECT_NE(status.message().find("execute threw an exception: boom"), std::string::npos);
}

TEST(AbiTest, ErrorsCrossWithCodeAndMessage) {
  cairn_error error{};
  int32_t code =
      GuardedCall(&error, "read_blob", []() { return NotFound("blob x/1 is not in the store"); });
  EXPECT_EQ(code, CAIRN_CODE_NOT_FOUND);
  Status status = StatusFromAbi(code, &error);
  EXPECT_EQ(status.code(), Code::kNotFound);
  EXPECT_EQ(status.message(), "blob x/1 is not in the store");
}

TEST(AbiTest, CallPluginCatchesWhatAnUnguardedPluginThrows) {
  Status status = CallPlugin("sandbox plugin evil: execute",
                             [](cairn_error*) -> int32_t { throw std::logic_error("unguarded"); });
  EXPECT_EQ(status.code(), Code::kInternal);
  EXPECT_NE(status.message().find("sandbox plugin evil: execute"), std::string::npos);
  EXPECT_NE(status.message().find("unguarded"), std::string::npos);
}

TEST(AbiTest, OutOfRangeCodesFromAPluginBecomeInternal) {
  cairn_error error{};
  Status status = StatusFromAbi(99, &error);
  EXPECT_EQ(status.code(), Code::kInternal);
  EXPECT_NE(status.message().find("99"), std::string::npos);
}

}  // namespace
}  // namespace cairn
