// Random identifiers for users and tokens.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace cruddur::identity {

// A lowercase RFC 4122 version 4 uuid ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") with 122 bits
// from OpenSSL's CSPRNG, so ids are not guessable. Thread-safe. kInternal if the CSPRNG fails.
Result<std::string> NewRandomUuid();

// True for the text NewRandomUuid writes: 8-4-4-4-12 lowercase hex digits (any version). The
// stores compare uuids as this text, so any other spelling names no user.
bool IsCanonicalUuid(std::string_view text);

}  // namespace cruddur::identity
