#include "ops/command_registry_impl.h"

#include <boost/asio/post.hpp>

#include "ops/room_power.h"

#include <algorithm>
#include <cctype>

namespace mxbridge::detail {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// An argument echoed in a reply: control characters shown as "?", and cut after 80 bytes,
// so a hostile argument cannot break the notice into lines or flood the room.
std::string shownArg(std::string_view arg) {
    constexpr size_t kMaxShown = 80;
    std::string out;
    for (char c : arg.substr(0, kMaxShown)) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    return arg.size() > kMaxShown ? out + "..." : out;
}

std::string usage(const Command& c) {
    return "!" + c.name + (c.syntax.empty() ? "" : " " + c.syntax);
}

}  // namespace

CommandRegistryImpl::CommandRegistryImpl(std::string bridgeName, std::string version,
                                         RoomPowerCheck roomPowerCheck)
    : bridgeName_(std::move(bridgeName)), version_(std::move(version)),
      roomPowerCheck_(std::move(roomPowerCheck)) {
    // The built-ins are ordinary entries so !help lists them; their bodies live in handle(),
    // which needs the registry's state.
    add(Command{"help", "", "list the commands you can use", Permission::User, 0, nullptr});
    add(Command{"version", "", "show the bridge and mxbridge versions", Permission::User, 0, nullptr});
}

void CommandRegistryImpl::add(Command command) {
    if (!command.name.empty() && command.name.front() == '!') command.name.erase(0, 1);
    std::string key = lower(command.name);
    if (key.empty() || key.find_first_of(" \t\n") != std::string::npos)
        throw std::invalid_argument("command name must be one word, got \"" + command.name + "\"");
    std::lock_guard lock(mutex_);
    commands_[key] = std::move(command);
}

bool CommandRegistryImpl::splitArgs(std::string_view text, std::vector<std::string>& out,
                                    std::string& error) {
    out.clear();
    std::string cur;
    bool inWord = false;
    char quote = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\\' && i + 1 < text.size()) {
            cur += text[++i];
            inWord = true;
        } else if (quote) {
            if (c == quote) quote = 0;
            else cur += c;
        } else if (c == '"' || c == '\'') {
            quote = c;
            inWord = true;  // "" is an empty argument
        } else if (std::isspace(static_cast<unsigned char>(c))) {
            if (inWord) out.push_back(std::move(cur));
            cur.clear();
            inWord = false;
        } else {
            cur += c;
            inWord = true;
        }
    }
    if (quote) {
        error = std::string("unterminated ") + (quote == '"' ? "\"" : "'") +
                " quote; close it, or escape it with a backslash";
        return false;
    }
    if (inWord) out.push_back(std::move(cur));
    return true;
}

std::string CommandRegistryImpl::helpText(bool senderIsAdmin) const {
    std::string text = "Commands of the " + bridgeName_ + " bridge:";
    bool anyAdmin = false;
    std::lock_guard lock(mutex_);
    for (const auto& [_, c] : commands_) {
        bool admin = c.permission == Permission::Admin;
        if (admin && !senderIsAdmin) continue;
        anyAdmin = anyAdmin || admin;
        text += "\n" + usage(c) + (c.help.empty() ? "" : " - " + c.help) + (admin ? " [admin]" : "");
    }
    if (anyAdmin) text += "\nCommands marked [admin] are for bridge admins only.";
    return text;
}

std::string CommandRegistryImpl::suggestion(const std::string& name, bool senderIsAdmin) const {
    std::lock_guard lock(mutex_);
    std::string best;
    size_t bestDistance = SIZE_MAX;
    for (const auto& [key, c] : commands_) {
        if (c.permission == Permission::Admin && !senderIsAdmin) continue;
        size_t d = key.rfind(name, 0) == 0 && !name.empty() ? 1 : editDistance(name, key);
        if (d < bestDistance) {
            bestDistance = d;
            best = c.name;
        }
    }
    size_t allowed = name.size() >= 4 ? 2 : 1;  // "jion" is two edits from "join"
    return bestDistance <= allowed ? best : std::string();
}

bool CommandRegistryImpl::handle(const UserId& sender, const RoomId& room, const std::string& body,
                                 bool senderIsAdmin, std::function<void(std::string)> reply) {
    std::string_view text(body);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    if (text.size() < 2 || text.front() != '!') return false;
    text.remove_prefix(1);
    size_t end = 0;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    std::string name = lower(std::string(text.substr(0, end)));
    std::string_view rest = text.substr(end);
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);

    Command command;
    {
        std::lock_guard lock(mutex_);
        auto it = commands_.find(name);
        if (it != commands_.end()) command = it->second;
    }
    if (command.name.empty()) {
        std::string near = suggestion(name, senderIsAdmin);
        reply("Unknown command !" + name + "." + (near.empty() ? "" : " Did you mean !" + near + "?") +
              " Send !help for the list.");
        return true;
    }
    if (command.permission == Permission::Admin && !senderIsAdmin) {
        log_.info("admin command refused", {{"user", sender.str()}, {"command", name}});
        reply("!" + command.name + " is for bridge admins only.");
        return true;
    }

    CommandCall call;
    call.sender = sender;
    call.room = room;
    call.rawArgs = std::string(rest);
    call.senderIsAdmin = senderIsAdmin;
    call.reply = [reply](const std::string& t) { reply(t); };
    std::string error;
    if (!splitArgs(rest, call.args, error)) {
        reply("!" + command.name + ": " + error + ". Usage: " + usage(command));
        return true;
    }
    if (call.args.size() < command.minArgs) {
        std::string needs = command.syntax.empty()
                                ? std::to_string(command.minArgs) + " argument(s)" : command.syntax;
        reply("!" + command.name + " needs " + needs + ". Usage: " + usage(command) +
              (command.help.empty() ? "" : " - " + command.help));
        return true;
    }
    if (!command.run) {
        if (name == "help") reply(helpText(senderIsAdmin));
        else if (name == "version") reply(bridgeName_ + " bridge, mxbridge " + version_);
        else reply("!" + command.name + " is registered without a handler.");
        return true;
    }
    // The room argument comes from a chat message: held to the spec's grammar for everyone,
    // admins included, before a bridge stores it or puts it in a URL or an IRC line.
    if (command.roomArg != Command::kNoRoomArg && command.roomArg < call.args.size() &&
        !isValidRoomId(call.args[command.roomArg])) {
        reply("!" + command.name + ": \"" + shownArg(call.args[command.roomArg]) +
              "\" is not a room id like !abc:example.org. Usage: " + usage(command));
        return true;
    }
    if (command.roomArg != Command::kNoRoomArg && !senderIsAdmin) {
        // It changes how a room is bridged: that room's own admins decide, so ask the
        // homeserver for its power levels first, off this room queue.
        if (command.roomArg >= call.args.size()) {
            reply("!" + command.name + " needs a room id. Usage: " + usage(command));
            return true;
        }
        if (!roomPowerCheck_ || stopped_) {
            reply("!" + command.name + " is for bridge admins only here.");
            return true;
        }
        boost::asio::post(checked_, [this, command, call = std::move(call)]() mutable {
            if (stopped_) return;
            Result<void> allowed = roomPowerCheck_(call.sender, RoomId(call.args[command.roomArg]));
            if (!allowed) {
                log_.info("command refused: too little power in the room",
                          {{"user", call.sender.str()}, {"command", command.name},
                           {"room", call.args[command.roomArg]}, {"error", allowed.error().message}});
                call.reply("!" + command.name + " refused: " + allowed.error().message);
                return;
            }
            run(command, call);
        });
        return true;
    }
    run(command, call);
    return true;
}

void CommandRegistryImpl::run(const Command& command, CommandCall& call) {
    log_.debug("running command", {{"user", call.sender.str()}, {"room", call.room.str()}, {"command", command.name}});
    try {
        command.run(call);
    } catch (const std::exception& e) {
        log_.error("command failed", {{"user", call.sender.str()}, {"command", command.name}, {"error", e.what()}});
        call.reply("!" + command.name + " failed: " + e.what());
    } catch (...) {
        log_.error("command failed", {{"user", call.sender.str()}, {"command", command.name}});
        call.reply("!" + command.name + " failed with an internal error.");
    }
}

CommandRegistryImpl::~CommandRegistryImpl() { stop(); }

void CommandRegistryImpl::stop() {
    stopped_ = true;
    checked_.join();
}

}  // namespace mxbridge::detail
