// JWKS fetching and the re-fetch on an unknown kid.
//
// Why these choices:
// - The Cognito Developer Guide ("Verifying a JSON Web Token") says to cache the pool's JWKS and
//   fetch it again when a token names a kid the cache lacks (keys rotate). The re-fetch is rate
//   limited because the kid comes from an unverified token: anyone could send random kids.
// - libcurl is told: http/https only (a URL from config must not reach file:// or gopher://), a
//   total timeout, no signals (CURLOPT_NOSIGNAL, required in threaded programs), and a write
//   callback that stops at kMaxJwksBytes so a hostile endpoint cannot make us buffer gigabytes.
#include "identity/jwks_source.h"

#include <curl/curl.h>

#include <fstream>
#include <mutex>
#include <utility>

namespace cruddur::identity {
namespace {

struct Body {
  std::string text;
  bool too_large = false;
};

std::size_t WriteBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  std::size_t bytes = size * count;
  if (body->text.size() + bytes > kMaxJwksBytes) {
    body->too_large = true;
    return 0;  // makes curl_easy_perform fail with CURLE_WRITE_ERROR
  }
  body->text.append(data, bytes);
  return bytes;
}

void GlobalInitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<std::string> HttpGet(const std::string& url, long timeout_ms) {
  GlobalInitCurl();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return IoError("fetch JWKS from " + url + ": cannot start libcurl");
  Body body;
  char error[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(c);
  if (body.too_large) {
    return IoError("fetch JWKS from " + url + ": larger than " + std::to_string(kMaxJwksBytes) +
                   " bytes");
  }
  if (rc != CURLE_OK) {
    return IoError("fetch JWKS from " + url + ": " +
                   (error[0] != '\0' ? std::string(error) : curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    return IoError("fetch JWKS from " + url + ": HTTP status " + std::to_string(status));
  }
  return std::move(body.text);
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("read JWKS from " + path + ": cannot open the file");
  std::string text(kMaxJwksBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return IoError("read JWKS from " + path + ": read failed");
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxJwksBytes) {
    return IoError("read JWKS from " + path + ": larger than " + std::to_string(kMaxJwksBytes) +
                   " bytes");
  }
  return text;
}

}  // namespace

std::string CognitoJwksUrl(std::string_view region, std::string_view user_pool_id) {
  return CognitoIssuer(region, user_pool_id) + "/.well-known/jwks.json";
}

JwksFetcher HttpJwksFetcher(std::string url, long timeout_ms) {
  return [url = std::move(url), timeout_ms] { return HttpGet(url, timeout_ms); };
}

JwksFetcher FileJwksFetcher(std::string path) {
  return [path = std::move(path)] { return ReadFile(path); };
}

RefreshingJwtVerifier::RefreshingJwtVerifier(RefreshingJwtVerifierOptions options,
                                             JwksFetcher fetcher)
    : options_(std::move(options)), fetcher_(std::move(fetcher)) {}

std::shared_ptr<const RefreshingJwtVerifier::Keys> RefreshingJwtVerifier::Current() {
  std::lock_guard lock(keys_mu_);
  return keys_;
}

Status RefreshingJwtVerifier::FetchLocked(std::int64_t now_unix_seconds) {
  last_attempt_ = now_unix_seconds;
  Result<std::string> text = fetcher_();
  Result<Jwks> jwks = text.ok() ? Jwks::Parse(*text) : text.TakeStatus();
  if (!jwks.ok()) {
    last_error_ = jwks.TakeStatus();
    return last_error_;
  }
  auto keys = std::make_shared<const Keys>(Keys{*jwks, JwtVerifier(options_.verifier, *jwks)});
  std::lock_guard lock(keys_mu_);
  keys_ = std::move(keys);
  last_error_ = Status::Ok();
  return Status::Ok();
}

Status RefreshingJwtVerifier::Refresh(std::int64_t now_unix_seconds) {
  std::lock_guard lock(fetch_mu_);
  return FetchLocked(now_unix_seconds);
}

Result<AccessTokenClaims> RefreshingJwtVerifier::Verify(std::string_view token,
                                                        std::int64_t now_unix_seconds) {
  CRUDDUR_ASSIGN_OR_RETURN(UnverifiedJwt jwt, DecodeJwt(token));
  std::shared_ptr<const Keys> keys = Current();
  if (keys && keys->jwks.Find(jwt.kid)) return keys->verifier.Verify(token, now_unix_seconds);
  {
    std::lock_guard lock(fetch_mu_);
    // Another thread may have fetched the new set while this one waited for the lock.
    keys = Current();
    if (!keys || !keys->jwks.Find(jwt.kid)) {
      bool may_fetch =
          !last_attempt_ || now_unix_seconds - *last_attempt_ >= options_.min_refetch_seconds;
      if (may_fetch) {
        CRUDDUR_RETURN_IF_ERROR(FetchLocked(now_unix_seconds));
        keys = Current();
      } else if (!keys) {
        return last_error_;
      }
    }
  }
  // With the kid still unknown this reports it ("unknown kid ...").
  return keys->verifier.Verify(token, now_unix_seconds);
}

}  // namespace cruddur::identity
