#include "messaging/demo.h"

#include <array>
#include <string_view>

#include "messaging/clock.h"
#include "messaging/store.h"

namespace cruddur::messaging {
namespace {

// Lines of the debate, alternating speakers (andrewbrown first); cycled with the round number
// so each of the 104 messages is distinct.
constexpr std::array<std::string_view, 26> kLines = {
    "Have you ever watched Babylon 5?",
    "Yes, the whole thing. Deep Space Nine too.",
    "Which station would you rather live on?",
    "Babylon 5: five miles of spinning metal and every species in one place.",
    "DS9 had Quark's bar. Hard to beat.",
    "B5 had the Zocalo, and better coffee.",
    "Sisko punched Q. Sheridan never did that.",
    "Sheridan came back from Z'ha'dum. That counts for more.",
    "The Dominion War was DS9's finest hour.",
    "The Shadow War was planned from the first episode.",
    "Garak is the best character in all of Star Trek.",
    "Londo Mollari is the best character in all of television.",
    "Fair point. Londo's arc is a tragedy in five acts.",
    "And G'Kar's is a redemption in five acts.",
    "DS9 had the better budget for effects.",
    "B5 did CGI first, on a shoestring.",
    "Odo or Lyta Alexander?",
    "Lyta. Telepaths with a grudge are terrifying.",
    "Worf joined DS9 in season four and it got better.",
    "Ivanova said 'I am death incarnate' and meant it.",
    "Rewatch night this weekend?",
    "Only if we alternate episodes.",
    "Deal. You bring the popcorn.",
    "I'll bring the popcorn; you bring the opinions.",
    "Always.",
    "See you then.",
};

}  // namespace

Result<DemoResult> SeedDemoConversation(dynamo::DynamoClient* client, const std::string& table,
                                        identity::UsersDirectory* users, std::int64_t now_micros) {
  CRUDDUR_ASSIGN_OR_RETURN(identity::ShortProfile andrew,
                           users->ShortProfileByHandle("andrewbrown"));
  CRUDDUR_ASSIGN_OR_RETURN(identity::ShortProfile bayko, users->ShortProfileByHandle("bayko"));
  // The first message goes kDemoMessages - 1 minutes before now, the last one at now.
  constexpr std::int64_t kMinute = 60 * 1000000LL;
  ManualClock clock(now_micros - (kDemoMessages - 1) * kMinute);
  MessageStore store(client, {table, clock.AsClock()});
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                           store.FindGroup(andrew.uuid, bayko.uuid));
  if (existing) return DemoResult{*existing, 0};

  DemoResult result;
  for (int i = 0; i < kDemoMessages; ++i) {
    const identity::ShortProfile& sender = i % 2 == 0 ? andrew : bayko;
    const identity::ShortProfile& receiver = i % 2 == 0 ? bayko : andrew;
    std::string text(kLines[static_cast<size_t>(i) % kLines.size()]);
    if (i >= static_cast<int>(kLines.size())) {
      text += " (round " + std::to_string(i / static_cast<int>(kLines.size()) + 1) + ")";
    }
    if (i == 0) {
      CRUDDUR_ASSIGN_OR_RETURN(PostedMessage posted,
                               store.CreateMessageGroup(sender, receiver, text));
      result.message_group_uuid = posted.message_group_uuid;
    } else {
      CRUDDUR_RETURN_IF_ERROR(
          store.CreateMessage(result.message_group_uuid, sender, text).status());
    }
    ++result.messages_written;
    clock.Advance(kMinute);
  }
  return result;
}

}  // namespace cruddur::messaging
