// Fuzzes SigV4 verification (aws/sigv4.h), the first thing the engine does with a request. The
// input is a signed request in the AWS SigV4 test suite's .sreq layout (src/aws/testdata): a
// request line "METHOD TARGET HTTP/1.1", "Name:value" header lines (a line starting with
// whitespace is one more value of the previous header), an empty line, the body. It is verified
// with the suite's credentials, scope and clock, so the seeds (the suite's own .sreq files) pass
// and mutations reach every check. Also:
//   - ParseAuthorization on the raw input, and for every Authorization value that parses:
//     formatting the parsed parts with AuthorizationHeader parses back to the same parts;
//   - Sign then Verify: the request stripped of its signature, signed again, verifies (when its
//     header names are HTTP tokens, as the server's parser guarantees, and it has a Host);
//   - FormatAmzDate then ParseAmzDate returns the same time, for the first 8 bytes as a time.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4.h"

namespace {

namespace aws = cruddur::aws;
using Headers = std::vector<std::pair<std::string, std::string>>;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr int64_t kSuiteTime = 1440938160;  // 20150830T123600Z
// The last second FormatAmzDate can write with a four-digit year: 9999-12-31T23:59:59Z.
constexpr int64_t kMaxAmzDate = 253402300799;

struct Request {
  std::string method;
  std::string target;
  Headers headers;
  std::string body;
};

Request ParseSreq(std::string_view text) {
  Request out;
  size_t line_end = text.find('\n');
  std::string_view line = text.substr(0, line_end);
  const size_t space = line.find(' ');
  out.method = std::string(line.substr(0, space));
  if (space != std::string_view::npos) {
    std::string_view rest = line.substr(space + 1);
    out.target = std::string(rest.substr(0, rest.rfind(" HTTP/1.1")));
  }
  size_t pos = line_end == std::string_view::npos ? text.size() : line_end + 1;
  while (pos < text.size()) {
    line_end = text.find('\n', pos);
    if (line_end == std::string_view::npos) line_end = text.size();
    line = text.substr(pos, line_end - pos);
    pos = line_end + 1;
    if (line.empty()) {
      if (pos < text.size()) out.body = std::string(text.substr(pos));
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (!out.headers.empty()) out.headers.emplace_back(out.headers.back().first, line);
      continue;
    }
    const size_t colon = line.find(':');
    const std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    out.headers.emplace_back(line.substr(0, colon), value);
  }
  return out;
}

cruddur::Result<std::string> SuiteSecret(std::string_view access_key) {
  if (access_key == kAccessKey) return std::string(kSecret);
  return cruddur::Status(cruddur::ErrorCode::kUnrecognizedClient,
                         "The security token included in the request is invalid.");
}

aws::VerifyOptions SuiteOptions() {
  aws::VerifyOptions options;
  options.service = "service";
  options.region = "us-east-1";
  options.now_unix_seconds = kSuiteTime;
  return options;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// RFC 9110 token characters: what a header name can be once llhttp has accepted it.
bool IsToken(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          std::strchr("!#$%&'*+-.^_`|~", c) != nullptr) ||
        c == 0) {
      return false;
    }
  }
  return true;
}

void CheckAuthorizationRoundTrip(std::string_view value) {
  cruddur::Result<aws::ParsedAuthorization> parsed = aws::ParseAuthorization(value);
  if (!parsed.ok()) return;
  std::string signed_headers;
  for (const std::string& name : parsed->signed_headers) {
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }
  const std::string formatted = aws::AuthorizationHeader(parsed->access_key_id, parsed->scope,
                                                         signed_headers, parsed->signature);
  cruddur::Result<aws::ParsedAuthorization> again = aws::ParseAuthorization(formatted);
  Check(again.ok() && again->access_key_id == parsed->access_key_id &&
        again->scope.ToString() == parsed->scope.ToString() &&
        again->signed_headers == parsed->signed_headers && again->signature == parsed->signature);
}

void CheckSignThenVerify(aws::SigV4* sigv4, const Request& request) {
  Headers unsigned_headers;
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name)) return;
    const std::string lower = Lower(name);
    if (lower == "authorization" || lower == "x-amz-date" || lower == "x-amz-security-token") {
      continue;
    }
    has_host = has_host || lower == "host";
    unsigned_headers.emplace_back(name, value);
  }
  if (!has_host) return;
  const aws::Credentials credentials{std::string(kAccessKey), std::string(kSecret), "token"};
  aws::RequestParts parts{request.method, request.target, unsigned_headers, request.body};
  cruddur::Result<aws::SignedRequest> signed_request =
      sigv4->Sign(parts, credentials, "us-east-1", "service", kSuiteTime);
  Check(signed_request.ok());
  Headers all = unsigned_headers;
  all.insert(all.end(), signed_request->headers_to_add.begin(),
             signed_request->headers_to_add.end());
  parts.headers = all;
  cruddur::Result<aws::VerifiedRequest> verified =
      sigv4->Verify(parts, SuiteSecret, SuiteOptions());
  Check(verified.ok() && verified->access_key_id == kAccessKey &&
        verified->session_token == "token" && verified->request_time == kSuiteTime);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static aws::SigV4* const sigv4 = new aws::SigV4();

  CheckAuthorizationRoundTrip(text);
  const Request request = ParseSreq(text);
  for (const auto& [name, value] : request.headers) {
    if (Lower(name) == "authorization") CheckAuthorizationRoundTrip(value);
    if (Lower(name) == "x-amz-date") (void)aws::ParseAmzDate(value);
  }
  const aws::RequestParts parts{request.method, request.target, request.headers, request.body};
  (void)sigv4->Verify(parts, SuiteSecret, SuiteOptions());
  CheckSignThenVerify(sigv4, request);

  if (size >= sizeof(uint64_t)) {
    uint64_t raw = 0;
    std::memcpy(&raw, data, sizeof(raw));
    const int64_t t = static_cast<int64_t>(raw % (kMaxAmzDate + 1));
    cruddur::Result<int64_t> parsed = aws::ParseAmzDate(aws::FormatAmzDate(t));
    Check(parsed.ok() && *parsed == t);
  }
  return 0;
}
