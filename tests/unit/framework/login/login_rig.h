// The framework's login pieces wired as the runtime wires them, around the probe handler:
// stored logins in memory, states in a real RemoteStateTracker, timers on a manual clock,
// the bot a recording intent, commands in the real registry.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "login/login_commands.h"
#include "login/login_provisioning.h"
#include "login/login_sessions.h"
#include "login/remote_clients_impl.h"
#include "mxbridge/testing/manual_clock.h"
#include "mxbridge/testing/recording_intent.h"
#include "ops/command_registry_impl.h"
#include "ops/remote_state_tracker.h"
#include "probe_login.h"
#include "store/memory_login_store.h"

namespace mxbridge::test {

inline const UserId kAlice("@alice:hs.test");
inline const RoomId kAliceDm("!dm-alice:hs.test");

struct LoginRig {
    explicit LoginRig(bool withHandler = true)
        : bot(UserId("@bot:hs.test"), "hs.test", intentLog, clock),
          states({.metrics = metrics,
                  .schedule = [this](std::chrono::milliseconds d, std::function<void()> t) { return clock.after(d, std::move(t)); },
                  .tellOwner = [this](const UserId&, const std::string& text) { toldOwner.push_back(text); },
                  .transientGrace = std::chrono::seconds(0),
                  .networkName = "Probe",
                  .now = [] { return int64_t{1'765'130'400'000}; },  // 2025-12-07 18:00 UTC
                  .log = Logger("remote_state")}),
          clients({.handler = withHandler ? &handler : nullptr,
                   .store = store,
                   .reportState = [this](const StateSubject& s, const RemoteStatus& st) { states.report(s, st); },
                   .idleTimeout = {},
                   .now = {},
                   .log = Logger("logins")}),
          sessions({.clients = clients,
                    .schedule = [this](std::chrono::milliseconds d, std::function<void()> t) { return clock.after(d, std::move(t)); },
                    .stepTimeout = std::chrono::seconds(120),
                    .networkName = "Probe",
                    .metrics = metrics,
                    .log = Logger("logins")}),
          commands({.sessions = sessions, .clients = clients, .store = store, .states = states, .bot = bot,
                    .networkName = "Probe", .log = Logger("logins")}),
          provisioning({.sessions = sessions, .clients = clients, .store = store, .states = states}),
          registry("probe", "0.0.0") {
        commands.registerIn(registry);
    }
    ~LoginRig() { commands.stop(); }

    // `body` typed by Alice in her DM with the bot, as the runtime hands it on.
    void type(const std::string& body, const std::string& eventId = "$typed") {
        if (commands.onDirectMessage(kAlice, kAliceDm, EventId(eventId), body)) return;
        registry.handle(kAlice, kAliceDm, body, false, [this](const std::string& text) {
            OutgoingMessage reply;
            reply.kind = MessageKind::Notice;
            reply.body = text;
            bot.sendMessage(kAliceDm, reply);
        });
    }

    std::vector<std::string> notices() const {
        std::vector<std::string> out;
        for (const auto& a : intentLog.ofOp("sendMessage"))
            if (a.message) out.push_back(a.message->body);
        return out;
    }
    std::string lastNotice() const {
        auto all = notices();
        return all.empty() ? std::string() : all.back();
    }
    // Steps run on the login workers: wait (bounded, generous for a loaded machine) until
    // the bot has said `count` things.
    bool waitForNotices(size_t count) const {
        for (int i = 0; i < 20000; ++i) {
            if (notices().size() >= count) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return false;
    }
    template <typename F>
    static bool eventually(F&& f) {
        for (int i = 0; i < 20000; ++i) {
            if (f()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return false;
    }

    ProbeLoginHandler handler;
    detail::MemoryLoginStore store;
    Metrics metrics;
    testing::ManualClock clock;
    testing::IntentLog intentLog;
    testing::RecordingIntent bot;
    std::vector<std::string> toldOwner;
    detail::RemoteStateTracker states;
    detail::RemoteClientsImpl clients;
    detail::LoginSessions sessions;
    detail::LoginCommands commands;
    detail::LoginProvisioning provisioning;
    detail::CommandRegistryImpl registry;
};

}  // namespace mxbridge::test
