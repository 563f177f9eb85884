// DynamoDB's number type: up to 38 significant decimal digits, magnitude between 1e-130 and
// 9.9999999999999999999999999999999999999e+125 (or zero), positive or negative. Never a double.
//
// Representation: a signed 128-bit coefficient (|c| < 10^38 fits) and a base-10 exponent,
// normalized so the coefficient has no trailing zeros (zero is {0, 0}). Two equal numbers
// therefore have equal representations, and ToString() is canonical: "1.50" and "15e-1" both
// print "1.5", "1E+2" prints "100". Values are immutable; copies are cheap; thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cruddur::dynamo {

class Decimal {
 public:
  static constexpr int kMaxDigits = 38;

  Decimal() = default;  // zero

  // Parses a DynamoDB number string ("-12.5", "1e10", "  " is invalid, leading '+' allowed).
  // Errors (ValidationException) use DynamoDB's texts, e.g. for out-of-range magnitudes
  // "Number overflow. Attempting to store a number with magnitude larger than supported range"
  // and "Number underflow. Attempting to store a number with magnitude smaller than supported
  // range", for too many digits "Attempting to store more than 38 significant digits in a
  // Number", and for text that is not a number "A value provided cannot be converted into a
  // number".
  static Result<Decimal> Parse(std::string_view text);
  static Decimal FromInt(int64_t v);

  // Exact sum/difference; fails as Parse does when the result needs more than 38 significant
  // digits or leaves the supported range.
  static Result<Decimal> Add(const Decimal& a, const Decimal& b);
  static Result<Decimal> Sub(const Decimal& a, const Decimal& b);

  // Canonical text: no exponent notation, no trailing fractional zeros, "-" only when negative.
  std::string ToString() const;

  bool is_zero() const { return coefficient_ == 0; }
  bool is_negative() const { return coefficient_ < 0; }
  // True when the value is an integer that fits int64 (used for Limit-like parameters).
  bool ToInt64(int64_t* out) const;

  std::strong_ordering operator<=>(const Decimal& other) const;
  bool operator==(const Decimal& other) const = default;

  // Appends a byte string whose memcmp order equals numeric order, for use as the last or an
  // internal component of a storage key (self-delimiting). DecodeOrdered reverses it and
  // consumes the bytes it used from *in.
  void EncodeOrdered(std::string* out) const;
  static Result<Decimal> DecodeOrdered(std::string_view* in);

  __int128 coefficient() const { return coefficient_; }
  int32_t exponent() const { return exponent_; }

 private:
  Decimal(__int128 c, int32_t e) : coefficient_(c), exponent_(e) {}
  __int128 coefficient_ = 0;  // |c| < 10^38, no trailing zeros unless zero
  int32_t exponent_ = 0;      // value = coefficient * 10^exponent
};

}  // namespace cruddur::dynamo
