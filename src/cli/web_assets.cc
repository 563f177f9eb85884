#include "cli/web_assets.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cruddur::cli {
namespace {

constexpr size_t kMaxFiles = 256;
constexpr size_t kMaxTotalBytes = 8 << 20;

std::string ContentType(const std::filesystem::path& path) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  auto it = kTypes.find(path.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

}  // namespace

Result<WebAssets> WebAssets::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFoundError("no web folder at " + dir);
  WebAssets assets;
  size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    if (assets.files_.size() >= kMaxFiles) return ValidationError("too many files in " + dir);
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in.good() && !in.eof()) return IoError("cannot read " + it->path().string());
    total += body.str().size();
    if (total > kMaxTotalBytes) return ValidationError("the files in " + dir + " exceed 8 MB");
    std::string url = "/" + fs::relative(it->path(), dir).generic_string();
    assets.files_[url] = File{ContentType(it->path()), body.str()};
  }
  if (ec) return IoError("cannot list " + dir + ": " + ec.message());
  return assets;
}

bool WebAssets::Serve(const net::HttpRequest& request, net::HttpResponse* response) const {
  if (request.method != "GET" && request.method != "HEAD") return false;
  std::string_view path = request.target;
  path = path.substr(0, path.find_first_of("?#"));
  if (path == "/") path = "/index.html";
  auto it = files_.find(path);
  if (it == files_.end()) return false;
  response->status = 200;
  response->headers.emplace_back("Content-Type", it->second.content_type);
  response->headers.emplace_back("Cache-Control", "no-cache");
  response->headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (request.method == "GET") response->body = it->second.body;
  return true;
}

}  // namespace cruddur::cli
