// Hand-written fakes of the public Intent and store interfaces: they record every call, in
// one global order, and complete createRoom/uploadMedia on their own thread after a delay,
// the way the real outbox answers.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mxbridge/intent.h"
#include "mxbridge/store.h"
#include "mxbridge/testing/memory_stores.h"

namespace fakes {

using namespace mxbridge;

// One intent call. Fields not used by an operation stay empty.
struct Call {
    std::string user;  // who acted
    std::string op;    // "send", "react", "redact", "state", "join", "leave", "kick", "ban",
                       // "name", "topic", "power", "displayname", "avatar", "typing",
                       // "create", "upload"
    std::string room;
    std::string text;    // body, key, name, topic, reason, display name, state type
    std::string target;  // event, user or state key acted on
    std::string remoteId;
    OutgoingMessage message;
    RoomCreation creation;
    std::map<UserId, int> levels;
    nlohmann::json content;
};

class CallLog {
public:
    void add(Call call) {
        std::lock_guard lock(mutex_);
        calls_.push_back(std::move(call));
    }
    std::vector<Call> all() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    std::vector<Call> ofOp(const std::string& op) const {
        std::vector<Call> out;
        for (Call& c : all())
            if (c.op == op) out.push_back(std::move(c));
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Call> calls_;
};

// Runs callbacks on their own threads after a delay; joins them all on destruction.
class Later {
public:
    ~Later() { joinAll(); }
    void run(std::chrono::milliseconds delay, std::function<void()> f) {
        std::lock_guard lock(mutex_);
        threads_.emplace_back([delay, f = std::move(f)] {
            std::this_thread::sleep_for(delay);
            f();
        });
    }
    void joinAll() {
        std::vector<std::thread> threads;
        {
            std::lock_guard lock(mutex_);
            threads.swap(threads_);
        }
        for (auto& t : threads) t.join();
    }

private:
    std::mutex mutex_;
    std::vector<std::thread> threads_;
};

struct FakeIntentOptions {
    std::chrono::milliseconds createDelay{50};
    std::chrono::milliseconds uploadDelay{50};
    std::atomic<int> failCreations{0};  // the next n createRoom calls fail
    std::atomic<int> failUploads{0};
    std::atomic<int> roomsCreated{0};
    std::atomic<int> uploads{0};
};

class FakeIntent final : public Intent {
public:
    FakeIntent(UserId user, CallLog& log, Later& later, FakeIntentOptions& options)
        : user_(std::move(user)), log_(log), later_(later), options_(options) {}

    const UserId& userId() const override { return user_; }

    void sendMessage(const RoomId& room, const OutgoingMessage& message,
                     const RemoteMessageId& remoteId) override {
        Call c = base("send", room);
        c.text = message.body;
        c.remoteId = remoteId.str();
        c.message = message;
        log_.add(std::move(c));
    }
    void sendReaction(const RoomId& room, const EventId& target, const std::string& key,
                      const RemoteMessageId& remoteId) override {
        Call c = base("react", room);
        c.target = target.str();
        c.text = key;
        c.remoteId = remoteId.str();
        log_.add(std::move(c));
    }
    void redact(const RoomId& room, const EventId& target, const std::string& reason) override {
        Call c = base("redact", room);
        c.target = target.str();
        c.text = reason;
        log_.add(std::move(c));
    }
    void sendState(const RoomId& room, const std::string& type, const std::string& stateKey,
                   const nlohmann::json& content) override {
        Call c = base("state", room);
        c.text = type;
        c.target = stateKey;
        c.content = content;
        log_.add(std::move(c));
    }
    void join(const RoomId& room) override { log_.add(base("join", room)); }
    void leave(const RoomId& room, const std::string& reason) override {
        Call c = base("leave", room);
        c.text = reason;
        log_.add(std::move(c));
    }
    void invite(const RoomId& room, const UserId& user) override {
        Call c = base("invite", room);
        c.target = user.str();
        log_.add(std::move(c));
    }
    void kick(const RoomId& room, const UserId& user, const std::string& reason) override {
        Call c = base("kick", room);
        c.target = user.str();
        c.text = reason;
        log_.add(std::move(c));
    }
    void ban(const RoomId& room, const UserId& user, const std::string& reason) override {
        Call c = base("ban", room);
        c.target = user.str();
        c.text = reason;
        log_.add(std::move(c));
    }
    void setRoomName(const RoomId& room, const std::string& name) override {
        Call c = base("name", room);
        c.text = name;
        log_.add(std::move(c));
    }
    void setTopic(const RoomId& room, const std::string& topic) override {
        Call c = base("topic", room);
        c.text = topic;
        log_.add(std::move(c));
    }
    void setPowerLevels(const RoomId& room, const std::map<UserId, int>& levels) override {
        Call c = base("power", room);
        c.levels = levels;
        log_.add(std::move(c));
    }
    void setRoomAlias(const std::string&, const RoomId& room) override { log_.add(base("alias", room)); }
    void publishInDirectory(const RoomId& room, bool) override { log_.add(base("publish", room)); }
    void setDisplayName(const std::string& name) override {
        Call c = base("displayname", RoomId());
        c.text = name;
        log_.add(std::move(c));
    }
    void setAvatarUrl(const std::string& mxc) override {
        Call c = base("avatar", RoomId());
        c.text = mxc;
        log_.add(std::move(c));
    }
    void setTyping(const RoomId& room, bool typing, std::chrono::milliseconds) override {
        Call c = base("typing", room);
        c.text = typing ? "true" : "false";
        log_.add(std::move(c));
    }
    void markRead(const RoomId& room, const EventId&) override { log_.add(base("read", room)); }
    void setPresence(const std::string&, const std::string&) override {}

    void createRoom(const RoomCreation& creation, std::function<void(Result<RoomId>)> done) override {
        Call c = base("create", RoomId());
        c.creation = creation;
        log_.add(std::move(c));
        bool fail = takeOne(options_.failCreations);
        later_.run(options_.createDelay, [this, fail, done = std::move(done)] {
            if (fail) {
                done(Error::transient("M_UNKNOWN", "homeserver said no"));
                return;
            }
            int n = ++options_.roomsCreated;
            done(RoomId("!created" + std::to_string(n) + ":hs"));
        });
    }
    void uploadMedia(const std::string& bytes, const std::string&, const std::string& fileName,
                     std::function<void(Result<std::string>)> done) override {
        Call c = base("upload", RoomId());
        c.text = fileName;
        c.target = bytes;
        log_.add(std::move(c));
        bool fail = takeOne(options_.failUploads);
        later_.run(options_.uploadDelay, [this, fail, done = std::move(done)] {
            if (fail) {
                done(Error::transient("M_TOO_LARGE", "too big"));
                return;
            }
            done("mxc://hs/media" + std::to_string(++options_.uploads));
        });
    }
    void downloadMedia(const std::string&, std::function<void(Result<std::string>)> done) override {
        done(Error::permanent("unsupported", "fake"));
    }

private:
    // Counts `n` down to zero; true while it was above.
    static bool takeOne(std::atomic<int>& n) {
        int v = n.load();
        while (v > 0 && !n.compare_exchange_weak(v, v - 1)) {}
        return v > 0;
    }
    Call base(const char* op, const RoomId& room) const {
        Call c;
        c.user = user_.str();
        c.op = op;
        c.room = room.str();
        return c;
    }

    UserId user_;
    CallLog& log_;
    Later& later_;
    FakeIntentOptions& options_;
};

class FakeLinkStore final : public LinkStore {
public:
    void link(const Link& link) override {
        std::lock_guard lock(mutex_);
        ++linkCalls;
        for (Link& l : links_)
            if (l.room == link.room && l.remote == link.remote) {
                l.options = link.options;
                return;
            }
        links_.push_back(link);
    }
    void unlink(const RoomId& room, const RemoteRoomId& remote) override {
        std::lock_guard lock(mutex_);
        std::erase_if(links_, [&](const Link& l) { return l.room == room && l.remote == remote; });
    }
    std::vector<Link> forRoom(const RoomId& room) override {
        std::lock_guard lock(mutex_);
        std::vector<Link> out;
        for (const Link& l : links_)
            if (l.room == room) out.push_back(l);
        return out;
    }
    std::vector<Link> forRemote(const RemoteRoomId& remote) override {
        std::lock_guard lock(mutex_);
        std::vector<Link> out;
        for (const Link& l : links_)
            if (l.remote == remote) out.push_back(l);
        return out;
    }
    std::vector<Link> all() override {
        std::lock_guard lock(mutex_);
        return links_;
    }
    std::atomic<int> linkCalls{0};

private:
    std::mutex mutex_;
    std::vector<Link> links_;
};

class FakeUserStore final : public UserStore {
public:
    void setGhost(const UserId& ghost, const RemoteUserId& remote) override {
        std::lock_guard lock(mutex_);
        ++setGhostCalls;
        ghosts_[ghost] = remote;
    }
    std::optional<RemoteUserId> remoteForGhost(const UserId& ghost) override {
        std::lock_guard lock(mutex_);
        auto it = ghosts_.find(ghost);
        if (it == ghosts_.end()) return std::nullopt;
        return it->second;
    }
    std::optional<UserId> ghostForRemote(const RemoteUserId& remote) override {
        std::lock_guard lock(mutex_);
        for (const auto& [ghost, r] : ghosts_)
            if (r == remote) return ghost;
        return std::nullopt;
    }
    void saveLogin(const Login&) override {}
    std::optional<Login> login(const UserId&, const std::string&) override { return std::nullopt; }
    void removeLogin(const UserId&, const std::string&) override {}
    std::vector<Login> logins(const std::string&) override { return {}; }
    int setGhostCalls = 0;

private:
    std::mutex mutex_;
    std::map<UserId, RemoteUserId> ghosts_;
};

// The testing kit's store, under the name these tests know it by.
using FakeEventMappingStore = mxbridge::testing::MemoryEventMappingStore;

}  // namespace fakes
