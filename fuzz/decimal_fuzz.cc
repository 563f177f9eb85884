// Fuzzes Decimal (dynamo/model/decimal.h): the N parser, canonical formatting, exact Add/Sub and
// the ordered key encoding. The input is read three ways:
//   - as number text: whatever parses formats canonically, and the canonical text parses back
//     to the same value and formats identically;
//   - split at the first ',' into two number texts: the ordered encodings compare (memcmp) as
//     the numbers do, and an exact sum or difference undoes exactly (a + b - b == a);
//   - as stored bytes for DecodeOrdered, which must reject garbage and, on success, consume
//     exactly the canonical encoding of what it returns (one number, one key).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "dynamo/model/decimal.h"

namespace {

using cruddur::dynamo::Decimal;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string Encode(const Decimal& d) {
  std::string out;
  d.EncodeOrdered(&out);
  return out;
}

int Sign(int v) { return (v > 0) - (v < 0); }

void CheckTextRoundTrip(const Decimal& d) {
  const std::string text = d.ToString();
  cruddur::Result<Decimal> again = Decimal::Parse(text);
  Check(again.ok() && *again == d && again->ToString() == text);
  const std::string encoded = Encode(d);
  Check(!encoded.empty() && encoded.size() <= 22);
  std::string_view in = encoded;
  cruddur::Result<Decimal> decoded = Decimal::DecodeOrdered(&in);
  Check(decoded.ok() && *decoded == d && in.empty());
  int64_t as_int = 0;
  if (d.ToInt64(&as_int)) Check(Decimal::FromInt(as_int) == d);
}

void CheckPair(const Decimal& a, const Decimal& b) {
  const std::string ea = Encode(a), eb = Encode(b);
  const std::strong_ordering order = a <=> b;
  const int bytes_order = Sign(ea.compare(eb));
  Check((order < 0 && bytes_order < 0) || (order == 0 && bytes_order == 0) ||
        (order > 0 && bytes_order > 0));
  cruddur::Result<Decimal> sum = Decimal::Add(a, b);
  if (sum.ok()) {
    cruddur::Result<Decimal> back = Decimal::Sub(*sum, b);
    Check(back.ok() && *back == a);
  }
  cruddur::Result<Decimal> diff = Decimal::Sub(a, b);
  if (diff.ok()) {
    cruddur::Result<Decimal> back = Decimal::Add(*diff, b);
    Check(back.ok() && *back == a);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  cruddur::Result<Decimal> whole = Decimal::Parse(input);
  if (whole.ok()) CheckTextRoundTrip(*whole);

  const size_t comma = input.find(',');
  if (comma != std::string_view::npos) {
    cruddur::Result<Decimal> a = Decimal::Parse(input.substr(0, comma));
    cruddur::Result<Decimal> b = Decimal::Parse(input.substr(comma + 1));
    if (a.ok()) CheckTextRoundTrip(*a);
    if (b.ok()) CheckTextRoundTrip(*b);
    if (a.ok() && b.ok()) CheckPair(*a, *b);
  }

  std::string_view stored = input;
  cruddur::Result<Decimal> decoded = Decimal::DecodeOrdered(&stored);
  if (decoded.ok()) {
    const std::string reencoded = Encode(*decoded);
    Check(input.substr(0, input.size() - stored.size()) == reencoded);
    CheckTextRoundTrip(*decoded);
  } else {
    Check(stored.size() == input.size());
  }
  return 0;
}
