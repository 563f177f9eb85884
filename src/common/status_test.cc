#include "common/status.h"

#include <gtest/gtest.h>

namespace cruddur {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return ValidationError("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  CRUDDUR_ASSIGN_OR_RETURN(int h, Half(x));
  CRUDDUR_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(StatusTest, NamesAndHttpStatus) {
  EXPECT_EQ(ErrorCodeName(ErrorCode::kValidation), "ValidationException");
  EXPECT_EQ(ErrorCodeHttpStatus(ErrorCode::kValidation), 400);
  EXPECT_EQ(ErrorCodeName(ErrorCode::kIo), "InternalServerError");
  EXPECT_EQ(ErrorCodeHttpStatus(ErrorCode::kInternal), 500);
}

TEST(StatusTest, CodesRoundTripThroughTheirNames) {
  for (int i = static_cast<int>(ErrorCode::kValidation);
       i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    auto code = static_cast<ErrorCode>(i);
    EXPECT_EQ(ErrorCodeFromName(ErrorCodeName(code)), code) << ErrorCodeName(code);
  }
  EXPECT_EQ(ErrorCodeFromName("NoSuchThingException"), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeFromName(""), ErrorCode::kInternal);
}

TEST(StatusTest, ResultPropagates) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status st = Quarter(6, &out);
  EXPECT_EQ(st.code(), ErrorCode::kValidation);
  EXPECT_EQ(st.ToString(), "ValidationException: odd");
}

}  // namespace
}  // namespace cruddur
