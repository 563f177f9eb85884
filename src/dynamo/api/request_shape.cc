// The texts here follow the service's own: type errors are what its Jackson-based deserializer
// reports (SerializationException), constraint errors are Coral's "N validation error(s)
// detected" list, capped at 10 entries. dynalite's validations (which were written against
// the live service) and DynamoDB Local agree on these forms.
#include "dynamo/api/request_shape.h"

#include <cmath>

namespace cruddur::dynamo::api {
namespace {

constexpr int kMaxReportedViolations = 10;
constexpr std::string_view kNamePattern = "[a-zA-Z0-9_.-]+";

Shape Make(std::string name, ShapeKind kind) {
  Shape s;
  s.name = std::move(name);
  s.kind = kind;
  return s;
}

const char* JavaName(ShapeKind kind) {
  switch (kind) {
    case ShapeKind::kString:
      return "String";
    case ShapeKind::kBoolean:
      return "Boolean";
    case ShapeKind::kLong:
      return "Long";
    case ShapeKind::kDouble:
      return "Double";
    default:
      return "Object";
  }
}

std::string ScalarName(const json::Value& v) {
  if (v.IsBool()) return v.GetBool() ? "TRUE_VALUE" : "FALSE_VALUE";
  if (v.IsNumber()) return v.IsDouble() ? "DECIMAL_VALUE" : "NUMBER_VALUE";
  return "STRING_VALUE";
}

bool IsScalar(const json::Value& v) { return v.IsBool() || v.IsNumber() || v.IsString(); }

Status TypeError(std::string message) { return SerializationError(std::move(message)); }

// Step 1: JSON types, recursively. Null members count as absent.
Status CheckTypes(const json::Value& v, const Shape& shape) {
  if (v.IsNull()) return Status::Ok();
  switch (shape.kind) {
    case ShapeKind::kString:
    case ShapeKind::kBoolean:
    case ShapeKind::kLong:
    case ShapeKind::kDouble: {
      bool ok =
          (shape.kind == ShapeKind::kString && v.IsString()) ||
          (shape.kind == ShapeKind::kBoolean && v.IsBool()) ||
          ((shape.kind == ShapeKind::kLong || shape.kind == ShapeKind::kDouble) && v.IsNumber());
      if (ok) return Status::Ok();
      if (v.IsArray()) {
        return TypeError(std::string("Unrecognized collection type class java.lang.") +
                         JavaName(shape.kind));
      }
      if (v.IsObject()) return TypeError("Start of structure or map found where not expected");
      if (shape.kind == ShapeKind::kBoolean && v.IsString()) {
        return TypeError("Unexpected token received from parser");
      }
      return TypeError(ScalarName(v) + " cannot be converted to " + JavaName(shape.kind));
    }
    case ShapeKind::kList:
      if (IsScalar(v)) return TypeError("Unexpected field type");
      if (!v.IsArray()) return TypeError("Start of structure or map found where not expected");
      for (const auto& e : v.GetArray()) {
        CRUDDUR_RETURN_IF_ERROR(CheckTypes(e, shape.members[0]));
      }
      return Status::Ok();
    case ShapeKind::kMap:
      if (IsScalar(v)) return TypeError("Unexpected field type");
      if (!v.IsObject()) return TypeError("Unrecognized collection type java.util.Map");
      for (const auto& m : v.GetObject()) {
        CRUDDUR_RETURN_IF_ERROR(CheckTypes(m.value, shape.members[0]));
      }
      return Status::Ok();
    case ShapeKind::kStruct:
      if (IsScalar(v)) return TypeError("Unexpected field type");
      if (!v.IsObject()) {
        return TypeError("Unrecognized collection type class com.amazonaws.dynamodb.v20120810." +
                         shape.name);
      }
      for (const Shape& member : shape.members) {
        auto it = v.FindMember(member.name);
        if (it != v.MemberEnd()) CRUDDUR_RETURN_IF_ERROR(CheckTypes(it->value, member));
      }
      return Status::Ok();
    case ShapeKind::kAttrValue:
      if (IsScalar(v)) return TypeError("Unexpected value type in payload");
      if (!v.IsObject()) {
        return TypeError(
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue");
      }
      return Status::Ok();
  }
  return Status::Ok();
}

std::string ValueString(const json::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsArray()) {
    std::string out = "[";
    bool first = true;
    for (const auto& e : v.GetArray()) {
      if (!first) out += ", ";
      first = false;
      out += ValueString(e);
    }
    return out + "]";
  }
  return json::ToString(v);
}

bool MatchesNamePattern(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

class ViolationCollector {
 public:
  void Add(const json::Value* v, const std::string& path, const std::string& constraint) {
    if (count_ >= kMaxReportedViolations) return;
    if (count_++ > 0) text_ += "; ";
    text_ += "Value ";
    text_ += v == nullptr || v->IsNull() ? "null" : "'" + ValueString(*v) + "'";
    text_ += " at '" + path + "' failed to satisfy constraint: " + constraint;
  }
  Status ToStatus() const {
    if (count_ == 0) return Status::Ok();
    return ValidationError(std::to_string(count_) + " validation error" + (count_ > 1 ? "s" : "") +
                           " detected: " + text_);
  }

 private:
  int count_ = 0;
  std::string text_;
};

int64_t Length(const json::Value& v) {
  if (v.IsString()) {
    // Characters, not bytes: count UTF-8 lead bytes.
    int64_t n = 0;
    for (unsigned char c : std::string_view(v.GetString(), v.GetStringLength())) {
      if ((c & 0xC0) != 0x80) ++n;
    }
    return n;
  }
  if (v.IsArray()) return v.Size();
  if (v.IsObject()) return v.MemberCount();
  return 0;
}

// Step 2: constraints, in the order the service reports them.
void CheckConstraints(const json::Value* v, const Shape& shape, const std::string& path,
                      ViolationCollector* out) {
  if (v == nullptr || v->IsNull()) {
    if (shape.not_null) out->Add(nullptr, path, "Member must not be null");
    return;
  }
  if (shape.min_value && v->IsNumber() && v->GetDouble() < static_cast<double>(*shape.min_value)) {
    out->Add(v, path,
             "Member must have value greater than or equal to " + std::to_string(*shape.min_value));
  }
  if (shape.max_value && v->IsNumber() && v->GetDouble() > static_cast<double>(*shape.max_value)) {
    out->Add(v, path,
             "Member must have value less than or equal to " + std::to_string(*shape.max_value));
  }
  if (shape.min_length && Length(*v) < *shape.min_length) {
    out->Add(
        v, path,
        "Member must have length greater than or equal to " + std::to_string(*shape.min_length));
  }
  if (shape.max_length && Length(*v) > *shape.max_length) {
    out->Add(v, path,
             "Member must have length less than or equal to " + std::to_string(*shape.max_length));
  }
  if (shape.name_pattern && v->IsString() &&
      !MatchesNamePattern(std::string_view(v->GetString(), v->GetStringLength()))) {
    out->Add(v, path,
             "Member must satisfy regular expression pattern: " + std::string(kNamePattern));
  }
  if (!shape.enum_values.empty() && v->IsString()) {
    std::string_view s(v->GetString(), v->GetStringLength());
    bool found = false;
    std::string set;
    for (const auto& e : shape.enum_values) {
      found = found || e == s;
      if (!set.empty()) set += ", ";
      set += e;
    }
    if (!found) out->Add(v, path, "Member must satisfy enum value set: [" + set + "]");
  }
  switch (shape.kind) {
    case ShapeKind::kList: {
      int i = 0;
      for (const auto& e : v->GetArray()) {
        CheckConstraints(&e, shape.members[0], path + "." + std::to_string(++i) + ".member", out);
      }
      break;
    }
    case ShapeKind::kMap:
      for (const auto& m : v->GetObject()) {
        CheckConstraints(
            &m.value, shape.members[0],
            path + "." + std::string(m.name.GetString(), m.name.GetStringLength()) + ".member",
            out);
      }
      break;
    case ShapeKind::kStruct:
      for (const Shape& member : shape.members) {
        auto it = v->FindMember(member.name);
        CheckConstraints(it == v->MemberEnd() ? nullptr : &it->value, member,
                         (path.empty() ? "" : path + ".") + LowerFirst(member.name), out);
      }
      break;
    default:
      break;
  }
}

}  // namespace

Shape Str(std::string name) { return Make(std::move(name), ShapeKind::kString); }
Shape Bool(std::string name) { return Make(std::move(name), ShapeKind::kBoolean); }
Shape Long(std::string name) { return Make(std::move(name), ShapeKind::kLong); }
Shape Double(std::string name) { return Make(std::move(name), ShapeKind::kDouble); }
Shape List(std::string name, Shape element) {
  Shape s = Make(std::move(name), ShapeKind::kList);
  s.members.push_back(std::move(element));
  return s;
}
Shape Map(std::string name, Shape value) {
  Shape s = Make(std::move(name), ShapeKind::kMap);
  s.members.push_back(std::move(value));
  return s;
}
Shape Struct(std::string name, std::vector<Shape> members) {
  Shape s = Make(std::move(name), ShapeKind::kStruct);
  s.members = std::move(members);
  return s;
}
Shape Attr(std::string name) { return Make(std::move(name), ShapeKind::kAttrValue); }
Shape AttrMap(std::string name) { return Map(std::move(name), Attr("AttributeValue")); }
Shape NotNull(Shape s) {
  s.not_null = true;
  return s;
}
Shape Length(Shape s, std::optional<int64_t> min, std::optional<int64_t> max) {
  s.min_length = min;
  s.max_length = max;
  return s;
}
Shape Range(Shape s, std::optional<int64_t> min, std::optional<int64_t> max) {
  s.min_value = min;
  s.max_value = max;
  return s;
}
Shape Enum(Shape s, std::vector<std::string> values) {
  s.enum_values = std::move(values);
  return s;
}
Shape TableNameShape(std::string name, bool required) {
  Shape s = Length(Str(std::move(name)), 3, 255);
  s.not_null = required;
  s.name_pattern = true;
  return s;
}
Shape IndexNameShape(std::string name) {
  Shape s = Length(Str(std::move(name)), 3, 255);
  s.name_pattern = true;
  return s;
}

std::string LowerFirst(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') out[0] = static_cast<char>(out[0] + 32);
  return out;
}

Status CheckShape(const json::Value& request, const Shape& input) {
  if (!request.IsObject()) {
    return SerializationError("The request body must be a JSON object");
  }
  CRUDDUR_RETURN_IF_ERROR(CheckTypes(request, input));
  ViolationCollector violations;
  CheckConstraints(&request, input, "", &violations);
  return violations.ToStatus();
}

}  // namespace cruddur::dynamo::api
