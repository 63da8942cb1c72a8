#include "cairn/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace cairn {
namespace {

TEST(StatusTest, WithContextKeepsTheCodeAndPrefixesTheMessage) {
  Status status = NotFound("blob abc/3").WithContext("reading input root");
  EXPECT_EQ(status.code(), Code::kNotFound);
  EXPECT_EQ(status.message(), "reading input root: blob abc/3");
  EXPECT_EQ(status.ToString(), "NOT_FOUND: reading input root: blob abc/3");
}

TEST(StatusTest, WithContextOnOkStaysOk) { EXPECT_TRUE(Status::Ok().WithContext("x").ok()); }

TEST(StatusTest, ErrnoStatusMapsErrnoToRpcCodesAndNamesTheSubject) {
  Status missing = ErrnoStatus("open", "/no/such", ENOENT);
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_NE(missing.message().find("/no/such"), std::string::npos);
  EXPECT_EQ(ErrnoStatus("write", "f", ENOSPC).code(), Code::kResourceExhausted);
  EXPECT_EQ(ErrnoStatus("open", "f", EACCES).code(), Code::kPermissionDenied);
}

TEST(StatusTest, StatusOrFromOkStatusBecomesInternalInsteadOfEmptyValue) {
  StatusOr<int> value{Status::Ok()};
  EXPECT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), Code::kInternal);
}

StatusOr<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  CAIRN_ASSIGN_OR_RETURN(int half, Half(x));
  CAIRN_ASSIGN_OR_RETURN(*out, Half(half));
  return Status::Ok();
}

TEST(StatusTest, AssignOrReturnPropagatesTheFirstError) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  EXPECT_EQ(Quarter(6, &out).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cairn
