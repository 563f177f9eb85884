// What both stores share: the seed's demo users and the input bounds.
#include "identity/users_directory.h"

namespace cruddur::identity {

const std::vector<NewUser>& DemoUsers() {
  static const std::vector<NewUser> kUsers = {
      {"Andrew Brown", "andrewbrown", "andrew@exampro.co", std::nullopt},
      {"Andrew Bayko", "bayko", "bayko@exampro.co", std::nullopt},
      {"Londo Mollari", "londo", "lmollari@centari.com", std::nullopt},
      {"Alt Brown", "altbrown", "altbrown@exampro.co", std::nullopt},
  };
  return kUsers;
}

Status ValidateText(std::string_view name, std::string_view value, std::size_t max_bytes) {
  if (value.empty()) return ValidationError(std::string(name) + " must not be empty");
  if (value.size() > max_bytes) {
    return ValidationError(std::string(name) + " is longer than " + std::to_string(max_bytes) +
                           " bytes");
  }
  return Status::Ok();
}

Status ValidateNewUser(const NewUser& user) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", user.handle, kMaxHandleBytes));
  CRUDDUR_RETURN_IF_ERROR(ValidateText("display_name", user.display_name, kMaxDisplayNameBytes));
  CRUDDUR_RETURN_IF_ERROR(ValidateText("email", user.email, kMaxEmailBytes));
  if (user.cognito_user_id) {
    CRUDDUR_RETURN_IF_ERROR(
        ValidateText("cognito_user_id", *user.cognito_user_id, kMaxCognitoUserIdBytes));
  }
  return Status::Ok();
}

Status ValidateUuidLookup(const std::vector<std::string>& uuids) {
  if (uuids.size() > kMaxUuidsPerLookup) {
    return ValidationError("at most " + std::to_string(kMaxUuidsPerLookup) +
                           " uuids per lookup, got " + std::to_string(uuids.size()));
  }
  for (const std::string& uuid : uuids) {
    CRUDDUR_RETURN_IF_ERROR(ValidateText("uuid", uuid, kMaxUuidBytes));
  }
  return Status::Ok();
}

}  // namespace cruddur::identity
