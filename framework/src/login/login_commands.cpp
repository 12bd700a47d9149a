#include "login/login_commands.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <ctime>
#include <set>

namespace mxbridge::detail {

namespace {

// How many secrets' events are remembered in case the homeserver refuses their redaction.
constexpr std::size_t kRememberedSecretEvents = 1000;

std::string trimmed(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string utcMinute(int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

std::string named(const LoginKey& key) { return key.network + (key.id.empty() ? "" : " (" + key.id + ")"); }

}  // namespace

LoginCommands::LoginCommands(Deps deps) : deps_(std::move(deps)) {}

LoginCommands::~LoginCommands() { stop(); }

void LoginCommands::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        stopped_ = true;
        asking_.clear();
    }
    deps_.sessions.stop();  // a step in flight returns "ended" and shows nothing
    workers_.join();
}

void LoginCommands::registerIn(CommandRegistry& registry) {
    registry.add(Command{.name = "login", .syntax = "[network] [method]",
                         .help = "log in to the network with your own account", .permission = Permission::User,
                         .minArgs = 0, .run = [this](CommandCall& c) { login(c); }});
    // A bridge without logins keeps !login only, to say so; the rest would be noise in !help.
    if (!deps_.clients.hasLogins()) return;
    registry.add(Command{.name = "logout", .syntax = "[network] [login]",
                         .help = "log out and forget your login", .permission = Permission::User,
                         .minArgs = 0, .run = [this](CommandCall& c) { logout(c); }});
    registry.add(Command{.name = "status", .syntax = "", .help = "show your logins and their connections",
                         .permission = Permission::User, .minArgs = 0,
                         .run = [this](CommandCall& c) { c.reply(statusText(c.sender)); }});
    registry.add(Command{.name = "reconnect", .syntax = "[network] [login]",
                         .help = "close your connection and open it again", .permission = Permission::User,
                         .minArgs = 0, .run = [this](CommandCall& c) { reconnect(c); }});
    registry.add(Command{.name = "cancel", .syntax = "", .help = "stop the login in progress",
                         .permission = Permission::User, .minArgs = 0, .run = [this](CommandCall& c) { cancel(c); }});
}

void LoginCommands::onRedactionRefused(const RoomId& room, const EventId& event, const std::string& why) {
    {
        std::lock_guard lock(mutex_);
        if (!secretEvents_.erase(event.str())) return;
    }
    say(room, "I could not delete your message holding a secret from this chat (" + why +
                  "). Please delete it yourself, and change that password if others can read this chat. "
                  "In a chat you start with me, giving me moderator power lets me delete it for you.");
}

void LoginCommands::say(const RoomId& room, const std::string& text) {
    OutgoingMessage notice;
    notice.kind = MessageKind::Notice;
    notice.body = text;
    deps_.bot.sendMessage(room, notice);
}

void LoginCommands::runStep(std::function<void()> step) {
    boost::asio::post(workers_, [this, step = std::move(step)] {
        try {
            step();
        } catch (const std::exception& e) {
            deps_.log.error("a login step failed", {{"error", e.what()}});
        }
    });
}

void LoginCommands::login(const CommandCall& call) {
    if (!deps_.clients.hasLogins()) {
        call.reply("The " + deps_.networkName + " bridge has no logins: you cannot log in to it with an account "
                   "of your own.");
        return;
    }
    std::string network = call.args.size() > 0 ? call.args[0] : "";
    std::string flow = call.args.size() > 1 ? call.args[1] : "";
    UserId owner = call.sender;
    RoomId room = call.room;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        asking_.erase(owner);  // a new !login replaces the questions of the last one
    }
    auto tell = [this, owner, room](const std::string& sessionId, const std::string& text) {
        {
            std::lock_guard lock(mutex_);
            auto it = asking_.find(owner);
            if (it != asking_.end() && it->second.sessionId == sessionId) asking_.erase(it);
        }
        say(room, text);
    };
    runStep([this, owner, room, network, flow, tell] {
        show(owner, room, deps_.sessions.start(owner, network, flow, tell));
    });
}

void LoginCommands::show(const UserId& owner, const RoomId& room, const Result<LoginPrompt>& result) {
    if (!result) {
        if (result.error().code == kLoginEnded) return;  // the user was told when it ended
        say(room, "Login failed: " + result.error().message);
        return;
    }
    const LoginPrompt& p = *result;
    switch (p.kind) {
        case LoginStep::Kind::Complete:
            say(room, "Logged in to " + p.network + (p.remoteName.empty() ? "" : " as " + p.remoteName) +
                          ". Send !status to see the connection.");
            return;
        case LoginStep::Kind::DisplayAndWait: {
            say(room, (p.instructions.empty() ? "" : p.instructions + "\n") + p.display);
            std::string sessionId = p.sessionId;
            runStep([this, owner, room, sessionId] { show(owner, room, deps_.sessions.wait(owner, sessionId)); });
            return;
        }
        case LoginStep::Kind::Fields:
            break;
    }
    if (p.fields.empty()) {
        // Nothing to ask: the process decides on an empty answer.
        std::string sessionId = p.sessionId;
        runStep([this, owner, room, sessionId] { show(owner, room, deps_.sessions.submit(owner, sessionId, {})); });
        return;
    }
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        asking_[owner] = Asking{.room = room, .sessionId = p.sessionId, .network = p.network, .fields = p.fields,
                                .next = 0, .input = {}};
    }
    ask(room, p.fields.front(), true, p.instructions);
}

void LoginCommands::ask(const RoomId& room, const LoginField& field, bool first, const std::string& instructions) {
    std::string text = first && !instructions.empty() ? instructions + "\n" : "";
    text += field.label.empty() ? field.id : field.label;
    if (!field.required)
        text += field.defaultValue.empty() ? " (optional: send - to skip)"
                                           : " (send - for the default, " + field.defaultValue + ")";
    if (field.kind == LoginField::Kind::Secret)
        text += "\nYour answer is deleted from this chat as soon as the bridge reads it.";
    if (first) text += "\nSend !cancel to stop.";
    say(room, text);
}

bool LoginCommands::onDirectMessage(const UserId& sender, const RoomId& room, const EventId& event,
                                    const std::string& body) {
    std::optional<std::pair<std::string, LoginInput>> complete;  // session id, answers
    {
        std::lock_guard lock(mutex_);
        auto it = asking_.find(sender);
        if (it == asking_.end() || it->second.room != room) return false;
        Asking& a = it->second;
        const LoginField& field = a.fields[a.next];
        if (field.kind == LoginField::Kind::Secret) {
            // First of all: off the room's history, whatever the answer turns out to be.
            deps_.bot.redact(room, event, "login secret");
            if (secretEvents_.insert(event.str()).second) secretEventOrder_.push_back(event.str());
            if (secretEventOrder_.size() > kRememberedSecretEvents) {
                secretEvents_.erase(secretEventOrder_.front());
                secretEventOrder_.pop_front();
            }
        }
        if (trimmed(body) == "!cancel") {
            asking_.erase(it);
        } else {
            std::string answer = field.kind == LoginField::Kind::Secret ? body : trimmed(body);
            if (!field.required && trimmed(answer) == "-") answer = field.defaultValue;
            if (field.kind == LoginField::Kind::Secret) a.input.secrets[field.id] = Secret<std::string>(std::move(answer));
            else a.input.values[field.id] = std::move(answer);
            if (++a.next < a.fields.size()) {
                LoginField nextField = a.fields[a.next];
                RoomId askRoom = a.room;
                // say() only queues a request: fine under the lock, and keeps the order.
                ask(askRoom, nextField, false, {});
                return true;
            }
            complete.emplace(a.sessionId, std::move(a.input));
            asking_.erase(it);
        }
    }
    if (!complete) {
        deps_.sessions.cancel(sender);
        say(room, "Login cancelled; nothing was stored.");
        return true;
    }
    auto answers = std::make_shared<LoginInput>(std::move(complete->second));
    std::string sessionId = complete->first;
    runStep([this, sender, room, sessionId, answers] {
        LoginInput input = std::move(*answers);
        answers->secrets.clear();
        show(sender, room, deps_.sessions.submit(sender, sessionId, std::move(input)));
    });
    return true;
}

void LoginCommands::cancel(const CommandCall& call) {
    {
        std::lock_guard lock(mutex_);
        asking_.erase(call.sender);
    }
    call.reply(deps_.sessions.cancel(call.sender) ? "Login cancelled; nothing was stored."
                                                  : "You have no login in progress.");
}

Result<LoginKey> LoginCommands::keyFor(const UserId& owner, const std::vector<std::string>& args) const {
    std::vector<LoginKey> known;
    for (const Login& l : deps_.store.ofOwner(owner)) known.push_back(keyOf(l));
    for (const auto& e : deps_.clients.list(owner))
        if (std::find(known.begin(), known.end(), e.key) == known.end()) known.push_back(e.key);
    std::vector<LoginKey> matching;
    for (const LoginKey& k : known)
        if ((args.empty() || k.network == args[0]) && (args.size() < 2 || k.id == args[1])) matching.push_back(k);
    if (matching.size() == 1) return matching.front();
    if (matching.empty()) {
        return Error::permanent("M_NOT_FOUND", args.empty() ? "You have no login or connection here."
                                                            : "You have no login or connection on " + args[0] +
                                                                  (args.size() > 1 ? " named " + args[1] : "") + ".");
    }
    std::string names;
    for (const LoginKey& k : matching) names += (names.empty() ? "" : ", ") + named(k);
    return Error::permanent("ambiguous", "Say which one: " + names + ".");
}

void LoginCommands::logout(const CommandCall& call) {
    Result<LoginKey> key = keyFor(call.sender, call.args);
    if (!key) return call.reply(key.error().message);
    deps_.clients.logout(*key);
    call.reply("Logged out of " + named(*key) + ": your login is forgotten and the connection closed.");
}

void LoginCommands::reconnect(const CommandCall& call) {
    Result<LoginKey> key = keyFor(call.sender, call.args);
    if (!key) return call.reply(key.error().message);
    deps_.clients.restart(*key);
    call.reply(deps_.clients.find(*key) ? "Reconnecting to " + named(*key) + "."
                                        : "There is nothing to reconnect on " + named(*key) + ".");
}

std::string LoginCommands::statusText(const UserId& owner) const {
    std::vector<LoginKey> keys;
    std::set<LoginKey> stored;
    for (const Login& l : deps_.store.ofOwner(owner)) {
        keys.push_back(keyOf(l));
        stored.insert(keyOf(l));
    }
    for (const auto& e : deps_.clients.list(owner))
        if (!stored.count(e.key)) keys.push_back(e.key);
    std::vector<RemoteStateEntry> states = deps_.states.snapshot();
    std::string text;
    for (const LoginKey& key : keys) {
        std::string line = "- " + named(key) + (stored.count(key) ? "" : " (without a login)") + ": ";
        auto st = std::find_if(states.begin(), states.end(), [&](const RemoteStateEntry& e) {
            return e.subject.owner == key.owner && e.subject.network == key.network && e.subject.loginId == key.id;
        });
        if (st == states.end()) {
            line += "not connected";
        } else {
            line += std::string(remoteStateName(st->status.state)) + " since " + utcMinute(st->sinceMs);
            if (!st->status.reason.empty()) line += " (" + st->status.reason + ")";
            if (needsUserAction(st->status.state)) line += "; send !login " + key.network + " to log in again";
        }
        text += (text.empty() ? "" : "\n") + line;
    }
    if (auto p = deps_.sessions.pending(owner))
        text += (text.empty() ? "" : "\n") + std::string("A login to ") + p->network +
                " is waiting for your answer (send !cancel to stop).";
    if (text.empty()) {
        std::string networks;
        for (const auto& n : deps_.sessions.networks()) networks += (networks.empty() ? "" : ", ") + n;
        return networks.empty() ? "You have no logins; this bridge has none to make."
                                : "You have no logins. Send !login to log in to " + networks + ".";
    }
    return "Your logins:\n" + text;
}

}  // namespace mxbridge::detail
