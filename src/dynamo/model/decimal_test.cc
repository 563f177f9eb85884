#include "dynamo/model/decimal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

namespace cruddur::dynamo {
namespace {

constexpr char kNotANumber[] = "A value provided cannot be converted into a number";
constexpr char kPrecision[] = "DynamoDB only supports precision up to 38 digits";
constexpr char kOverflow[] =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
constexpr char kUnderflow[] =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

Decimal D(std::string_view s) {
  auto r = Decimal::Parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : Decimal();
}

std::string Canon(std::string_view s) { return D(s).ToString(); }

std::string ParseError(std::string_view s) {
  auto r = Decimal::Parse(s);
  if (r.ok()) return "ok: " + r->ToString();
  EXPECT_EQ(r.status().code(), ErrorCode::kValidation);
  return r.status().message();
}

// Canonical forms as read back from DynamoDB.
TEST(DecimalTest, CanonicalText) {
  EXPECT_EQ(Canon("1.50"), "1.5");
  EXPECT_EQ(Canon("1E+2"), "100");
  EXPECT_EQ(Canon("-0"), "0");
  EXPECT_EQ(Canon("0.000"), "0");
  EXPECT_EQ(Canon("00012"), "12");
  EXPECT_EQ(Canon("+5"), "5");
  EXPECT_EQ(Canon("1."), "1");
  EXPECT_EQ(Canon(".5"), "0.5");
  EXPECT_EQ(Canon("-.5"), "-0.5");
  EXPECT_EQ(Canon("+.5"), "0.5");
  EXPECT_EQ(Canon("1e-5"), "0.00001");
  EXPECT_EQ(Canon("1E5"), "100000");
  EXPECT_EQ(Canon("0e999"), "0");
  EXPECT_EQ(Canon("0e-999"), "0");
  EXPECT_EQ(Canon("1.2e2"), "120");
  EXPECT_EQ(Canon("1e0001"), "10");
  EXPECT_EQ(Canon("12.3400e3"), "12340");
  EXPECT_EQ(Canon("-123.456"), "-123.456");
  EXPECT_EQ(Canon("10e-131"), "0." + std::string(129, '0') + "1");
  EXPECT_EQ(Canon("-1e-130"), "-0." + std::string(129, '0') + "1");
  EXPECT_EQ(Canon("9.9999999999999999999999999999999999999e125"),
            std::string(38, '9') + std::string(88, '0'));
  EXPECT_EQ(Canon("12345678901234567890123456789012345678"),
            "12345678901234567890123456789012345678");
  EXPECT_EQ(Canon("1234567890123456789012345678901234567800000"),
            "1234567890123456789012345678901234567800000");
  EXPECT_EQ(Canon("0.0000000000000000000000000000000000000000001234"),
            "0.0000000000000000000000000000000000000000001234");
  // Trailing zeros are not significant, however many.
  EXPECT_EQ(Canon("1." + std::string(60, '0')), "1");
  EXPECT_EQ(Canon("0." + std::string(76, '0') + "1"), "0." + std::string(76, '0') + "1");
  EXPECT_EQ(Canon("-9223372036854775808"), "-9223372036854775808");
}

TEST(DecimalTest, ParseErrors) {
  for (const char* bad : {"", ".", "-", "+", "1e", "1e+", "e5", " 1", "1 ", "NaN", "Infinity",
                          "-Infinity", "0x10", "--1", "1e1.5", "1..2", "1.2.3", "1,5", "١"}) {
    EXPECT_EQ(ParseError(bad), kNotANumber) << bad;
  }
  EXPECT_EQ(ParseError("123456789012345678901234567890123456789"), kPrecision);
  EXPECT_EQ(ParseError("1.00000000000000000000000000000000000001"), kPrecision);
  // Precision is checked before range.
  EXPECT_EQ(ParseError("123456789012345678901234567890123456789e200"), kPrecision);
  EXPECT_EQ(ParseError("1e126"), kOverflow);
  EXPECT_EQ(ParseError("-1e126"), kOverflow);
  EXPECT_EQ(ParseError("1e-131"), kUnderflow);
  EXPECT_EQ(ParseError("1e-200"), kUnderflow);
  EXPECT_EQ(ParseError("1e99999999999999999999999"), kOverflow);
  EXPECT_EQ(ParseError("1e-99999999999999999999999"), kUnderflow);
}

TEST(DecimalTest, Normalized) {
  Decimal a = D("1.50"), b = D("15e-1");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.coefficient(), 15);
  EXPECT_EQ(a.exponent(), -1);
  EXPECT_EQ(D("100").coefficient(), 1);
  EXPECT_EQ(D("100").exponent(), 2);
  EXPECT_EQ(D("-0"), Decimal());
  EXPECT_EQ(D("-0").exponent(), 0);
  EXPECT_EQ(D("123.45").LeadExponent(), 2);
  EXPECT_EQ(D("0.00123").LeadExponent(), -3);
}

TEST(DecimalTest, FromIntAndToInt64) {
  for (int64_t v :
       {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{100}, int64_t{-4500}, INT64_MAX, INT64_MIN}) {
    int64_t out = 7;
    Decimal d = Decimal::FromInt(v);
    EXPECT_EQ(d.ToString(), std::to_string(v));
    ASSERT_TRUE(d.ToInt64(&out));
    EXPECT_EQ(out, v);
  }
  int64_t out;
  EXPECT_FALSE(D("1.5").ToInt64(&out));
  EXPECT_FALSE(D("9223372036854775808").ToInt64(&out));
  EXPECT_FALSE(D("-9223372036854775809").ToInt64(&out));
  EXPECT_FALSE(D("1e30").ToInt64(&out));
  // Regression (fuzz/corpus/decimal/regress-toint64-*): 38 digits times 10^18 overflowed.
  EXPECT_FALSE(D("12345678901234567890123456789012345678e18").ToInt64(&out));
  ASSERT_TRUE(D("1e18").ToInt64(&out));
  EXPECT_EQ(out, 1000000000000000000);
}

std::string Sum(std::string_view a, std::string_view b) {
  auto r = Decimal::Add(D(a), D(b));
  return r.ok() ? r->ToString() : r.status().message();
}
std::string Diff(std::string_view a, std::string_view b) {
  auto r = Decimal::Sub(D(a), D(b));
  return r.ok() ? r->ToString() : r.status().message();
}

TEST(DecimalTest, AddSub) {
  EXPECT_EQ(Sum("0.5", "0.5"), "1");
  EXPECT_EQ(Sum("1.5", "-1.5"), "0");
  EXPECT_EQ(Sum("0", "-2.5"), "-2.5");
  EXPECT_EQ(Sum("-2.5", "0"), "-2.5");
  EXPECT_EQ(Diff("0", "-2.5"), "2.5");
  EXPECT_EQ(Sum("12345678901234567890123456789012345678", "1"),
            "12345678901234567890123456789012345679");
  EXPECT_EQ(Sum("99999999999999999999999999999999999999", "1"),
            "100000000000000000000000000000000000000");
  EXPECT_EQ(Sum("99999999999999999999999999999999999999", "2"), kPrecision);
  EXPECT_EQ(Sum("1", "1e-50"), kPrecision);
  EXPECT_EQ(Sum("1e100", "1e-100"), kPrecision);
  EXPECT_EQ(Sum("1e125", "-1e-130"), kPrecision);
  EXPECT_EQ(Sum("1", "1e-37"), "1.0000000000000000000000000000000000001");
  EXPECT_EQ(Sum("9.9999999999999999999999999999999999999e125", "1e125"), kPrecision);
  EXPECT_EQ(Sum("9e125", "1e125"), kOverflow);
  EXPECT_EQ(Diff("-9e125", "1e125"), kOverflow);
  EXPECT_EQ(Diff("1e-130", "1e-130"), "0");
  EXPECT_EQ(Diff("2e-130", "1e-130"), D("1e-130").ToString());
  EXPECT_EQ(Diff("2e-130", "1.5e-130"), kUnderflow);
  EXPECT_EQ(Diff("100", "0.001"), "99.999");
  EXPECT_EQ(Diff("0.001", "100"), "-99.999");
  EXPECT_EQ(Sum("-5", "3"), "-2");
  EXPECT_EQ(Sum("5", "-7"), "-2");
  EXPECT_EQ(Diff("1e38", "1"), std::string(38, '9'));
  EXPECT_EQ(
      Sum("-99999999999999999999999999999999999999", "-99999999999999999999999999999999999999"),
      kPrecision);
  EXPECT_EQ(Sum("-9999999999999999999999999999999999999", "-9999999999999999999999999999999999999"),
            "-19999999999999999999999999999999999998");
}

TEST(DecimalTest, Compare) {
  std::vector<std::string> sorted = {"-1e125", "-100",   "-1.5",  "-1",     "-0.001", "-1e-130",
                                     "0",      "1e-130", "0.001", "0.0011", "1",      "1.000001",
                                     "1.5",    "2",      "10",    "99",     "100",    "1e125"};
  for (size_t i = 0; i < sorted.size(); ++i) {
    for (size_t j = 0; j < sorted.size(); ++j) {
      EXPECT_EQ(D(sorted[i]) <=> D(sorted[j]), i <=> j) << sorted[i] << " vs " << sorted[j];
    }
  }
}

// A random valid Decimal: random digit count, digits and exponent within range.
Decimal RandomDecimal(std::mt19937_64& rng) {
  const int kind = static_cast<int>(rng() % 10);
  if (kind == 0) return Decimal();
  const int digits = 1 + static_cast<int>(rng() % 38);
  std::string s;
  if (rng() % 2) s.push_back('-');
  for (int i = 0; i < digits; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
  if (s.back() == '-' || s.find_first_not_of("-0") == std::string::npos) s.push_back('1');
  // Small exponents most of the time so values collide and share prefixes often.
  int exp = kind < 6 ? static_cast<int>(rng() % 7) - 3 : static_cast<int>(rng() % 200) - 100;
  s += "e" + std::to_string(exp);
  auto r = Decimal::Parse(s);
  return r.ok() ? *r : Decimal::FromInt(static_cast<int64_t>(rng() % 1000) - 500);
}

TEST(DecimalTest, OrderedEncodingMatchesNumericOrder) {
  std::mt19937_64 rng(42);
  std::vector<Decimal> values = {D("1e-130"), D("-1e-130"),
                                 D("9.9999999999999999999999999999999999999e125"),
                                 D("-9.9999999999999999999999999999999999999e125"), Decimal()};
  for (int i = 0; i < 3000; ++i) values.push_back(RandomDecimal(rng));
  std::vector<std::string> enc;
  for (const auto& v : values) {
    std::string e;
    v.EncodeOrdered(&e);
    EXPECT_LE(e.size(), 22u);
    std::string_view in = e;
    auto back = Decimal::DecodeOrdered(&in);
    ASSERT_TRUE(back.ok()) << v.ToString();
    EXPECT_EQ(*back, v);
    EXPECT_TRUE(in.empty());
    enc.push_back(std::move(e));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = i; j < std::min(values.size(), i + 200); ++j) {
      const int c =
          std::memcmp(enc[i].data(), enc[j].data(), std::min(enc[i].size(), enc[j].size()));
      const auto byte_order = c != 0 ? c <=> 0 : enc[i].size() <=> enc[j].size();
      EXPECT_EQ(byte_order, values[i] <=> values[j])
          << values[i].ToString() << " vs " << values[j].ToString();
    }
  }
  // Sorting by encoding sorts numerically.
  std::vector<size_t> idx(values.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return enc[a] < enc[b]; });
  for (size_t i = 1; i < idx.size(); ++i) EXPECT_LE(values[idx[i - 1]], values[idx[i]]);
}

TEST(DecimalTest, OrderedEncodingIsSelfDelimiting) {
  std::string e;
  D("-12.5").EncodeOrdered(&e);
  D("0").EncodeOrdered(&e);
  D("3e10").EncodeOrdered(&e);
  e += "tail";
  std::string_view in = e;
  EXPECT_EQ(*Decimal::DecodeOrdered(&in), D("-12.5"));
  EXPECT_EQ(*Decimal::DecodeOrdered(&in), D("0"));
  EXPECT_EQ(*Decimal::DecodeOrdered(&in), D("3e10"));
  EXPECT_EQ(in, "tail");
}

TEST(DecimalTest, DecodeOrderedRejectsCorruptInput) {
  std::string good;
  D("123.456").EncodeOrdered(&good);
  // Every truncation fails and leaves the input untouched.
  for (size_t n = 0; n < good.size(); ++n) {
    std::string_view in(good.data(), n);
    auto r = Decimal::DecodeOrdered(&in);
    EXPECT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
    EXPECT_EQ(in.size(), n);
  }
  // Random garbage never crashes; whatever decodes re-encodes to the bytes consumed.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string junk(static_cast<size_t>(rng() % 24), '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    std::string_view in = junk;
    auto r = Decimal::DecodeOrdered(&in);
    if (!r.ok()) continue;
    std::string again;
    r->EncodeOrdered(&again);
    EXPECT_EQ(again, junk.substr(0, junk.size() - in.size()));
  }
}

}  // namespace
}  // namespace cruddur::dynamo
