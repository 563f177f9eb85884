// The messaging page's static files, served by `cruddur serve` at `/` (index.html) and
// `/<path>`. Loaded once from a folder at start-up (the repository's web/ by default), so a
// request never touches the file system and no path a client sends is ever opened.
//
// Thread-safety: immutable after Load; Serve may run on any thread.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "net/http_server.h"

namespace cruddur::cli {

class WebAssets {
 public:
  // Reads every regular file under `dir` (at most 256 files and 8 MB in all). A missing folder
  // is kNotFound, so a build without the page still serves the API.
  static Result<WebAssets> Load(const std::string& dir);

  // Answers GET/HEAD of a known file (200 with its Content-Type) and returns true; returns
  // false for any other request (for the API to answer).
  bool Serve(const net::HttpRequest& request, net::HttpResponse* response) const;

  size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string body;
  };
  std::map<std::string, File, std::less<>> files_;  // "/index.html", "/app.js", ...
};

}  // namespace cruddur::cli
