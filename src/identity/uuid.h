// Random identifiers for users and tokens.
#pragma once

#include <string>

#include "common/status.h"

namespace cruddur::identity {

// A lowercase RFC 4122 version 4 uuid ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") with 122 bits
// from OpenSSL's CSPRNG, so ids are not guessable. Thread-safe. kInternal if the CSPRNG fails.
Result<std::string> NewRandomUuid();

}  // namespace cruddur::identity
