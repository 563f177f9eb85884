#include "triggers/handler.h"

#include "common/json.h"

namespace cruddur::triggers {

std::string BuildLambdaEvent(const Batch& batch) {
  // The records are spliced in as the text GetRecords sent rather than re-parsed and rewritten:
  // the handler sees exactly the stream's record, and a large batch costs one copy.
  json::StringBuffer arn_buf;
  json::Writer arn_writer(arn_buf);
  arn_writer.String(batch.stream_arn);
  const std::string_view arn(arn_buf.GetString(), arn_buf.GetSize());

  size_t size = 16;
  for (const StreamRecord& r : batch.records) size += r.json.size() + arn.size() + 20;
  std::string out;
  out.reserve(size);
  out += "{\"Records\":[";
  bool first = true;
  for (const StreamRecord& r : batch.records) {
    if (!first) out += ',';
    first = false;
    std::string_view body = r.json;
    // Every record is a JSON object (ClientStreamSource checks); drop its closing brace.
    const size_t close = body.rfind('}');
    body = body.substr(0, close == std::string_view::npos ? 0 : close);
    out += body;
    if (body.find_first_not_of(" \t\r\n{") != std::string_view::npos) out += ',';
    out += "\"eventSourceARN\":";
    out += arn;
    out += '}';
  }
  out += "]}";
  return out;
}

void NativeHandlerRegistry::Register(const std::string& name, NativeHandler handler) {
  std::lock_guard lock(mu_);
  handlers_[name] = std::move(handler);
}

NativeHandler NativeHandlerRegistry::Find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = handlers_.find(name);
  return it == handlers_.end() ? NativeHandler() : it->second;
}

}  // namespace cruddur::triggers
