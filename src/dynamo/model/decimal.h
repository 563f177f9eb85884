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

// GCC/Clang's 128-bit integers. `__extension__` keeps -Wpedantic quiet; spell them through
// these names everywhere (a bare `__int128` is an error under the house -Werror -Wpedantic).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

class Decimal {
 public:
  static constexpr int kMaxDigits = 38;

  Decimal() = default;  // zero

  // Parses a DynamoDB number string: [+-]? (digits ('.' digits*)? | '.' digits)
  // ([eE] [+-]? digits+)?  - so "+5", "00012", "1.", ".5", "1E+2" are accepted and " 1", "",
  // ".", "1e", "NaN", "Infinity", "0x10" are not. Leading and trailing zeros do not count as
  // significant ("1.000...0" with 50 zeros is fine). Errors (ValidationException) use DynamoDB's
  // texts, checked in this order:
  //   not a number:        "A value provided cannot be converted into a number"
  //   > 38 digits:         "DynamoDB only supports precision up to 38 digits"
  //   magnitude >= 1e126:  "Number overflow. Attempting to store a number with magnitude larger
  //                         than supported range"
  //   magnitude < 1e-130:  "Number underflow. Attempting to store a number with magnitude
  //                         smaller than supported range"
  static Result<Decimal> Parse(std::string_view text);
  static Decimal FromInt(int64_t v);
  // coefficient * 10^exponent, normalized; fails like Parse on precision or range.
  static Result<Decimal> FromParts(Int128 coefficient, int64_t exponent);

  // Exact sum/difference; fails as Parse does when the exact result needs more than 38
  // significant digits (e.g. 1 + 1e-50, or 99999999999999999999999999999999999999 + 2) or
  // leaves the supported range. Never rounds.
  static Result<Decimal> Add(const Decimal& a, const Decimal& b);
  static Result<Decimal> Sub(const Decimal& a, const Decimal& b);

  // Canonical text: no exponent notation, no trailing fractional zeros, "-" only when negative.
  std::string ToString() const;

  bool is_zero() const { return coefficient_ == 0; }
  bool is_negative() const { return coefficient_ < 0; }
  // Exponent of the leading digit (value = d.ddd * 10^LeadExponent()); 0 for zero.
  int LeadExponent() const;
  // True when the value is an integer that fits int64 (used for Limit-like parameters).
  bool ToInt64(int64_t* out) const;

  std::strong_ordering operator<=>(const Decimal& other) const;
  bool operator==(const Decimal& other) const = default;

  // Appends a byte string whose memcmp order equals numeric order, for use as the last or an
  // internal component of a storage key (self-delimiting, 1 to 22 bytes; the format is in
  // decimal.cc). DecodeOrdered reverses it and consumes the bytes it used from *in; on
  // malformed input it fails with kInternal "Corrupt number encoding" and leaves *in as it was.
  void EncodeOrdered(std::string* out) const;
  static Result<Decimal> DecodeOrdered(std::string_view* in);

  Int128 coefficient() const { return coefficient_; }
  int32_t exponent() const { return exponent_; }

 private:
  Decimal(Int128 c, int32_t e) : coefficient_(c), exponent_(e) {}
  Int128 coefficient_ = 0;  // |c| < 10^38, no trailing zeros unless zero
  int32_t exponent_ = 0;    // value = coefficient * 10^exponent
};

}  // namespace cruddur::dynamo
