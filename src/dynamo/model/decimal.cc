// Decimal: DynamoDB's N type.
//
// Documented behaviour followed (Developer Guide, "Supported data types and naming rules",
// Number): up to 38 significant digits; positive range 1E-130 to
// 9.9999999999999999999999999999999999999E+125, the same for negatives; leading and trailing
// zeros trimmed. Error texts and the order of checks (precision before range: a 39-digit
// mantissa with exponent 200 is a precision error) are what DynamoDB answers with.
#include "dynamo/model/decimal.h"

#include <algorithm>
#include <array>

namespace cruddur::dynamo {
namespace {

constexpr int kMinLeadExponent = -130;  // 1E-130
constexpr int kMaxLeadExponent = 125;   // 9.99...E+125
// Exponent digits are accumulated with a clamp: no representable value needs anywhere near
// this, and it keeps the arithmetic in int64 for hostile input such as "1e999999999999999999".
constexpr int64_t kExponentClamp = 1'000'000'000'000;

constexpr char kNotANumber[] = "A value provided cannot be converted into a number";
constexpr char kPrecision[] = "DynamoDB only supports precision up to 38 digits";
constexpr char kOverflow[] =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
constexpr char kUnderflow[] =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

using u128 = UInt128;

constexpr std::array<u128, 39> MakePow10() {
  std::array<u128, 39> p{};
  p[0] = 1;
  for (size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
  return p;
}
constexpr std::array<u128, 39> kPow10 = MakePow10();

u128 Magnitude(Int128 c) { return c < 0 ? static_cast<u128>(0) - static_cast<u128>(c) : c; }

int DigitCount(u128 v) {
  int n = 1;
  while (n < 39 && v >= kPow10[n]) ++n;
  return n;
}

// Writes the decimal digits (values 0..9) of v, most significant first; returns the count.
int ToDigits(u128 v, uint8_t* out) {
  uint8_t tmp[40];
  int n = 0;
  do {
    tmp[n++] = static_cast<uint8_t>(v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

}  // namespace

Result<Decimal> Decimal::FromParts(Int128 coefficient, int64_t exponent) {
  if (coefficient == 0) return Decimal();
  u128 mag = Magnitude(coefficient);
  while (mag % 10 == 0) {
    mag /= 10;
    ++exponent;
  }
  int digits = DigitCount(mag);
  if (digits > kMaxDigits) return ValidationError(kPrecision);
  int64_t lead = exponent + digits - 1;
  if (lead > kMaxLeadExponent) return ValidationError(kOverflow);
  if (lead < kMinLeadExponent) return ValidationError(kUnderflow);
  Int128 c = static_cast<Int128>(mag);
  return Decimal(coefficient < 0 ? -c : c, static_cast<int32_t>(exponent));
}

Decimal Decimal::FromInt(int64_t v) {
  // Any int64 has at most 19 digits and a magnitude well inside the range.
  return std::move(FromParts(v, 0)).value();
}

Result<Decimal> Decimal::Parse(std::string_view text) {
  // Grammar: [+-]? (digits ('.' digits*)? | '.' digits) ([eE] [+-]? digits+)?
  // No whitespace, "NaN", "Infinity" or hex, as DynamoDB.
  const size_t n = text.size();
  size_t i = 0;
  bool negative = false;
  if (i < n && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  size_t first_nonzero = std::string_view::npos, last_nonzero = 0;
  int64_t frac_digits = 0;
  int64_t digits_after_last_nonzero = 0;
  bool any_digit = false, in_fraction = false;
  int64_t significant = 0;  // digits from the first nonzero through the last nonzero
  int64_t since_first = 0;  // digits from the first nonzero through the current one
  for (; i < n; ++i) {
    const char ch = text[i];
    if (ch == '.') {
      if (in_fraction) return ValidationError(kNotANumber);
      in_fraction = true;
      continue;
    }
    if (ch < '0' || ch > '9') break;
    any_digit = true;
    if (in_fraction) ++frac_digits;
    if (first_nonzero != std::string_view::npos) ++since_first;
    if (ch != '0') {
      if (first_nonzero == std::string_view::npos) {
        first_nonzero = i;
        since_first = 1;
      }
      last_nonzero = i;
      significant = since_first;
      digits_after_last_nonzero = 0;
    } else {
      ++digits_after_last_nonzero;
    }
  }
  if (!any_digit) return ValidationError(kNotANumber);
  int64_t exponent = 0;
  if (i < n) {
    if (text[i] != 'e' && text[i] != 'E') return ValidationError(kNotANumber);
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    if (i == n) return ValidationError(kNotANumber);
    for (; i < n; ++i) {
      if (text[i] < '0' || text[i] > '9') return ValidationError(kNotANumber);
      exponent = std::min<int64_t>(exponent * 10 + (text[i] - '0'), kExponentClamp);
    }
    if (exp_negative) exponent = -exponent;
  }
  if (first_nonzero == std::string_view::npos) return Decimal();  // "-0", "0.000", "0e999"
  if (significant > kMaxDigits) return ValidationError(kPrecision);
  u128 mag = 0;
  for (size_t k = first_nonzero; k <= last_nonzero; ++k) {
    if (text[k] != '.') mag = mag * 10 + static_cast<u128>(text[k] - '0');
  }
  // The last nonzero digit sits `digits_after_last_nonzero` places above the mantissa's last
  // digit, which itself has weight 10^(exponent - frac_digits).
  const int64_t last_exponent = exponent - frac_digits + digits_after_last_nonzero;
  const Int128 c = static_cast<Int128>(mag);
  return FromParts(negative ? -c : c, last_exponent);
}

std::string Decimal::ToString() const {
  if (coefficient_ == 0) return "0";
  uint8_t digits[40];
  const int count = ToDigits(Magnitude(coefficient_), digits);
  std::string out;
  out.reserve(static_cast<size_t>(count) + 4 + static_cast<size_t>(std::abs(exponent_)));
  if (coefficient_ < 0) out.push_back('-');
  if (exponent_ >= 0) {
    for (int k = 0; k < count; ++k) out.push_back(static_cast<char>('0' + digits[k]));
    out.append(static_cast<size_t>(exponent_), '0');
    return out;
  }
  const int int_digits = count + exponent_;  // digits before the point (may be <= 0)
  if (int_digits <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-int_digits), '0');
    for (int k = 0; k < count; ++k) out.push_back(static_cast<char>('0' + digits[k]));
    return out;
  }
  for (int k = 0; k < count; ++k) {
    if (k == int_digits) out.push_back('.');
    out.push_back(static_cast<char>('0' + digits[k]));
  }
  return out;
}

int Decimal::LeadExponent() const {
  return coefficient_ == 0 ? 0 : exponent_ + DigitCount(Magnitude(coefficient_)) - 1;
}

bool Decimal::ToInt64(int64_t* out) const {
  if (exponent_ < 0) return false;  // normalized: a negative exponent means a fraction
  // |value| >= 10^19 exceeds int64, and 38 digits times 10^18 would overflow even Int128.
  if (LeadExponent() > 18) return false;
  const Int128 v = coefficient_ * static_cast<Int128>(kPow10[exponent_]);
  if (v > INT64_MAX || v < INT64_MIN) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

std::strong_ordering Decimal::operator<=>(const Decimal& other) const {
  const int sa = (coefficient_ > 0) - (coefficient_ < 0);
  const int sb = (other.coefficient_ > 0) - (other.coefficient_ < 0);
  if (sa != sb) return sa <=> sb;
  if (sa == 0) return std::strong_ordering::equal;
  const u128 ma = Magnitude(coefficient_), mb = Magnitude(other.coefficient_);
  const int da = DigitCount(ma), db = DigitCount(mb);
  const int la = exponent_ + da - 1, lb = other.exponent_ + db - 1;
  std::strong_ordering mag_order = std::strong_ordering::equal;
  if (la != lb) {
    mag_order = la <=> lb;
  } else {
    // Same leading exponent: align both to the longer digit count (<= 38 digits, fits).
    const u128 xa = ma * kPow10[std::max(da, db) - da];
    const u128 xb = mb * kPow10[std::max(da, db) - db];
    mag_order = xa <=> xb;
  }
  return sa > 0 ? mag_order : 0 <=> mag_order;
}

// Exact addition over decimal digit arrays. Both operands have at most 38 digits; when their
// digit ranges are far apart the exact sum needs more than 38 digits (the lower operand's last
// digit is nonzero and survives), which is a precision error, so only a bounded window of
// digits is ever materialized.
static Result<Decimal> AddSigned(const Decimal& a, const Decimal& b, bool negate_b) {
  const Int128 cb_signed = negate_b ? -b.coefficient() : b.coefficient();
  if (b.is_zero()) return a;
  if (a.is_zero()) return Decimal::FromParts(cb_signed, b.exponent());
  const Int128 ca_signed = a.coefficient();
  // Order operands so that x has the higher last-digit exponent.
  Int128 cx = ca_signed, cy = cb_signed;
  int64_t ex = a.exponent(), ey = b.exponent();
  if (ex < ey) {
    std::swap(cx, cy);
    std::swap(ex, ey);
  }
  const int64_t shift = ex - ey;
  // cx * 10^shift + cy with |cy| < 10^38: for shift > 39 the result spans more than 38 digits.
  if (shift > 39) return ValidationError(kPrecision);
  // Little-endian decimal digits, 38 + 39 + 1 positions.
  constexpr int kWidth = 80;
  uint8_t x[kWidth] = {}, y[kWidth] = {};
  {
    u128 v = Magnitude(cx);
    for (int k = static_cast<int>(shift); v != 0; ++k, v /= 10) x[k] = static_cast<uint8_t>(v % 10);
    v = Magnitude(cy);
    for (int k = 0; v != 0; ++k, v /= 10) y[k] = static_cast<uint8_t>(v % 10);
  }
  const bool neg_x = cx < 0, neg_y = cy < 0;
  uint8_t r[kWidth] = {};
  bool result_negative = neg_x;
  if (neg_x == neg_y) {
    int carry = 0;
    for (int k = 0; k < kWidth; ++k) {
      const int s = x[k] + y[k] + carry;
      r[k] = static_cast<uint8_t>(s % 10);
      carry = s / 10;
    }
  } else {
    // Subtract the smaller magnitude from the larger.
    int cmp = 0;
    for (int k = kWidth - 1; k >= 0 && cmp == 0; --k) cmp = (x[k] > y[k]) - (x[k] < y[k]);
    if (cmp == 0) return Decimal();
    const uint8_t* big = cmp > 0 ? x : y;
    const uint8_t* small = cmp > 0 ? y : x;
    result_negative = cmp > 0 ? neg_x : neg_y;
    int borrow = 0;
    for (int k = 0; k < kWidth; ++k) {
      int d = big[k] - small[k] - borrow;
      borrow = d < 0;
      r[k] = static_cast<uint8_t>(d + (borrow ? 10 : 0));
    }
  }
  int low = 0, high = kWidth - 1;
  while (r[low] == 0) ++low;  // nonzero somewhere: equal magnitudes returned above
  while (r[high] == 0) --high;
  if (high - low + 1 > Decimal::kMaxDigits) return ValidationError(kPrecision);
  u128 mag = 0;
  for (int k = high; k >= low; --k) mag = mag * 10 + r[k];
  const Int128 c = static_cast<Int128>(mag);
  return Decimal::FromParts(result_negative ? -c : c, ey + low);
}

Result<Decimal> Decimal::Add(const Decimal& a, const Decimal& b) { return AddSigned(a, b, false); }
Result<Decimal> Decimal::Sub(const Decimal& a, const Decimal& b) { return AddSigned(a, b, true); }

// Ordered encoding (see decimal.h): a class byte, then for nonzero values one byte of leading
// exponent and the digits as nibbles with a terminator.
//   negative: 0x01, 255 - (lead + 130), nibbles 10 - d (1..10), terminator 0xF
//   zero:     0x02
//   positive: 0x03, lead + 130,       nibbles d + 1 (1..10),  terminator 0x0
// lead + 130 spans exactly 0..255. Normalized digits have no trailing zeros, so for equal
// exponents the digit strings compare lexicographically like the numbers, a shorter string
// (terminator) sorting before a longer one; negatives invert every byte's meaning.
namespace {
constexpr uint8_t kClassNegative = 0x01, kClassZero = 0x02, kClassPositive = 0x03;
}

void Decimal::EncodeOrdered(std::string* out) const {
  if (coefficient_ == 0) {
    out->push_back(static_cast<char>(kClassZero));
    return;
  }
  const bool neg = coefficient_ < 0;
  uint8_t digits[40];
  const int count = ToDigits(Magnitude(coefficient_), digits);
  const int lead = exponent_ + count - 1;
  out->push_back(static_cast<char>(neg ? kClassNegative : kClassPositive));
  const uint8_t exp_byte = static_cast<uint8_t>(lead - kMinLeadExponent);
  out->push_back(static_cast<char>(neg ? 255 - exp_byte : exp_byte));
  const uint8_t term = neg ? 0xF : 0x0;
  auto nibble = [neg](uint8_t d) -> uint8_t { return neg ? 10 - d : d + 1; };
  int k = 0;
  for (; k + 1 < count; k += 2) {
    out->push_back(static_cast<char>((nibble(digits[k]) << 4) | nibble(digits[k + 1])));
  }
  if (k < count) {
    out->push_back(static_cast<char>((nibble(digits[k]) << 4) | term));
  } else {
    out->push_back(static_cast<char>((term << 4) | term));
  }
}

Result<Decimal> Decimal::DecodeOrdered(std::string_view* in) {
  auto corrupt = [] { return InternalError("Corrupt number encoding"); };
  if (in->empty()) return corrupt();
  const uint8_t cls = static_cast<uint8_t>((*in)[0]);
  if (cls == kClassZero) {
    in->remove_prefix(1);
    return Decimal();
  }
  if ((cls != kClassNegative && cls != kClassPositive) || in->size() < 3) return corrupt();
  const bool neg = cls == kClassNegative;
  const uint8_t exp_byte = static_cast<uint8_t>(neg ? 255 - static_cast<uint8_t>((*in)[1])
                                                    : static_cast<uint8_t>((*in)[1]));
  const int lead = exp_byte + kMinLeadExponent;
  const uint8_t term = neg ? 0xF : 0x0;
  u128 mag = 0;
  int count = 0;
  uint8_t last = 0;
  size_t pos = 2;
  bool done = false;
  while (!done) {
    if (pos >= in->size()) return corrupt();
    const uint8_t byte = static_cast<uint8_t>((*in)[pos++]);
    for (int half = 0; half < 2 && !done; ++half) {
      const uint8_t nib = half == 0 ? byte >> 4 : byte & 0xF;
      if (nib == term) {
        // The rest of the byte must be the terminator pattern too.
        if (half == 0 && (byte & 0xF) != term) return corrupt();
        done = true;
        break;
      }
      if (nib < 1 || nib > 10) return corrupt();
      const uint8_t d = neg ? 10 - nib : nib - 1;
      if (count == 0 && d == 0) return corrupt();
      if (++count > kMaxDigits) return corrupt();
      mag = mag * 10 + d;
      last = d;
    }
  }
  if (count == 0 || last == 0) return corrupt();
  in->remove_prefix(pos);
  const Int128 c = static_cast<Int128>(mag);
  return Decimal(neg ? -c : c, lead - count + 1);
}

}  // namespace cruddur::dynamo
