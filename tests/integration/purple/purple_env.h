// The libpurple bridge as its tests run it: the real `mxbridge` with `type: purple`, the
// homeserver double, and Matrix users (carol, and dave when a test wants two) each in a DM
// with the bridge bot.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "homeserver_double.h"
#include "process.h"
#include "temp_dir.h"

namespace mxbridge::test {

inline constexpr const char* kCarol = "@carol:hs.test";
inline constexpr const char* kDave = "@dave:hs.test";

class PurpleBridgeEnv {
public:
    // `extraBridgeYaml`: more lines of the bridge section, each indented by two spaces.
    explicit PurpleBridgeEnv(const std::string& extraBridgeYaml = {});
    ~PurpleBridgeEnv();

    HomeserverDouble& hs() { return *hs_; }
    Process& bridge() { return *bridge_; }
    const TempDir& dir() const { return dir_; }

    // `user` (added to the homeserver) opens a DM with the bot. Carol has one from the start.
    void openDm(const std::string& user);
    // `user` writes `body` in their DM with the bot; the bot's next notice, or "(no answer)".
    std::string say(const std::string& body, const std::string& user = kCarol);
    // Answers !login <network>'s questions with `answer(question)` until the bot says it is
    // done; returns its last notice. `asked` gets every question.
    std::string login(const std::string& network, const std::function<std::string(const std::string&)>& answer,
                      std::vector<std::string>* asked = nullptr, const std::string& user = kCarol);
    // Until !status says the login on `network` is connected, or `timeout`.
    bool waitConnected(const std::string& network, std::chrono::milliseconds timeout,
                       const std::string& user = kCarol);

    // The pid in the last "purple host started" line of host `host` in the bridge's log (0:
    // none yet).
    long hostPid(std::size_t host = 0);
    // How many lines of the bridge's log hold `text`.
    std::size_t logCount(const std::string& text);

    // `user`'s DM with the bot.
    const std::string& dmOf(const std::string& user) const { return dms_.at(user); }
    // The DM the bridge made for `user` with a ghost (empty until there is one).
    std::string directRoom(const std::string& user = kCarol);
    // The room the bridge made for `user`'s chat (a MUC, a channel): inviting them, not a DM.
    std::string chatRoom(const std::string& user = kCarol);
    // Whether `room` has a message with `body`; its sender in `sender`.
    bool roomHas(const std::string& room, const std::string& body, std::string* sender = nullptr);
    // How many messages in `room` have exactly `body`.
    std::size_t messageCount(const std::string& room, const std::string& body);
    // The bodies of notices in `room` holding `text`.
    std::vector<std::string> noticesWith(const std::string& room, const std::string& text);

private:
    // The first room created with `user` invited and is_direct as `direct`.
    std::string createdRoomFor(const std::string& user, bool direct);
    std::vector<std::string> botNotices(const std::string& room);

    TempDir dir_{"mxbridge-purple-it"};
    std::unique_ptr<HomeserverDouble> hs_;
    std::unique_ptr<Process> bridge_;
    std::map<std::string, std::string> dms_;  // user -> their DM with the bot
};

}  // namespace mxbridge::test
