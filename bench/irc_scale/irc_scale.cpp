// mxbridge-irc-scale: the IRC bridge at scale, end to end. A real InspIRCd, the real `mxbridge`
// binary with `bridge: {type: irc}`, and the homeserver double playing Matrix: N Matrix users
// talk in C bridged rooms so the bridge opens N puppets; then an oper KILLs K of them at once
// while probe messages keep crossing in both directions. See bench/README.md.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness_error.h"
#include "homeserver_double.h"
#include "http_client.h"
#include "ircd_fixture.h"
#include "irc_observer.h"
#include "measures.h"
#include "mxbridge/irc/message.h"
#include "ports.h"
#include "process.h"
#include "temp_dir.h"

namespace mxbridge::bench {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kServerName = "hs.test";
constexpr const char* kAsToken = "as_token_irc_scale";
constexpr const char* kHsToken = "hs_token_irc_scale";
constexpr const char* kBotNick = "scalebot";
constexpr const char* kObserverNick = "observer";
constexpr const char* kProbeChannel = "#scaleprobe";

struct Options {
    std::string mxbridge = MXBRIDGE_CLI_PATH;
    int users = 10000;
    int channels = 100;
    int kill = 1000;
    int connectRate = 200;   // bridge connect_rate.per_second
    int connectBurst = 50;   // bridge connect_rate.burst
    double probeRate = 10;   // probes per second, in each direction
    int baselineSeconds = 15;
    int afterSeconds = 3;
    int upTimeoutSeconds = 900;
    int stormTimeoutSeconds = 300;
    double stallMs = 1000;   // a probe slower than this during the storm counts as a stall
    double rssTargetMb = 300;
};

void usage() {
    std::cout <<
        "usage: mxbridge-irc-scale [--mxbridge PATH] [--users N] [--channels C] [--kill K]\n"
        "         [--connect-rate R] [--connect-burst B] [--probe-rate P] [--baseline-seconds S]\n"
        "         [--up-timeout S] [--storm-timeout S] [--stall-ms MS]\n"
        "Defaults: 10000 users in 100 channels, 1000 killed, connect_rate 200/s burst 50,\n"
        "10 probes/s each way, 15 s of baseline. Exit 0: targets met; 1: missed; 2: failed.\n";
}

Options parseOptions(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--mxbridge") o.mxbridge = value();
        else if (a == "--users") o.users = std::stoi(value());
        else if (a == "--channels") o.channels = std::stoi(value());
        else if (a == "--kill") o.kill = std::stoi(value());
        else if (a == "--connect-rate") o.connectRate = std::stoi(value());
        else if (a == "--connect-burst") o.connectBurst = std::stoi(value());
        else if (a == "--probe-rate") o.probeRate = std::stod(value());
        else if (a == "--baseline-seconds") o.baselineSeconds = std::stoi(value());
        else if (a == "--up-timeout") o.upTimeoutSeconds = std::stoi(value());
        else if (a == "--storm-timeout") o.stormTimeoutSeconds = std::stoi(value());
        else if (a == "--stall-ms") o.stallMs = std::stod(value());
        else if (a == "--help" || a == "-h") {
            usage();
            std::exit(0);
        } else {
            throw std::invalid_argument("unknown argument " + a);
        }
    }
    // Killed users are the first K, probe users sit in the second half: the sets never meet.
    if (o.users < 2 || o.channels < 1 || o.kill < 1 || o.kill > o.users / 2 ||
        o.users / 2 + o.channels > o.users || o.probeRate <= 0)
        throw std::invalid_argument("need 1 <= kill <= users/2 and users/2 + channels <= users");
    return o;
}

// Children (ircd, bridge) inherit the soft limit: 10,000 sockets need more than the usual 1024.
long raiseFdLimit() {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
    return static_cast<long>(r.rlim_cur);
}

std::string channelName(int c) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "#scale%03d", c);
    return buf;
}

std::string userId(int i) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "@u%05d:%s", i, kServerName);
    return buf;
}

// "i2m 17" -> 17 for prefix "i2m "; nullopt for anything else.
std::optional<std::uint64_t> numberAfter(std::string_view text, std::string_view prefix) {
    if (text.substr(0, prefix.size()) != prefix || text.size() == prefix.size()) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : text.substr(prefix.size())) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

std::string fmt(double v, int decimals = 1) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// Everything the observer sees, digested. Fed on the observer's reader thread; read from the
// driver under the same mutex.
class IrcSide {
public:
    IrcSide(ProbeLog& m2i, ProbeLog& queued) : m2i_(m2i), queued_(queued) {}

    void onLine(std::string_view line, Clock::time_point at) {
        auto msg = irc::IrcMessage::parse(line);
        if (!msg) return;
        const std::string nick = msg->sourceParts().nick;
        std::lock_guard lock(mutex_);
        if (msg->command == "NOTICE" && msg->sourceParts().isServer()) {
            // Server notices (+s +cq): InspIRCd's "*** CONNECT: Client connecting ..." and
            // "*** QUIT: Client exiting ..." are the ircd's own view of (re)connects.
            const std::string& text = msg->param(1);
            if (auto pos = text.find("CONNECT: Client connecting"); pos != std::string::npos) {
                // "...(class loopback): nick!user@host (ip) [realname]"
                auto from = text.find("): ", pos);
                auto bang = from == std::string::npos ? from : text.find('!', from);
                if (bang != std::string::npos) connects_.emplace_back(at, text.substr(from + 3, bang - from - 3));
            }
            else if (text.find("QUIT: Client exiting") != std::string::npos) quits_.push_back(at);
        } else if (msg->command == "PRIVMSG") {
            const std::string& text = msg->param(1);
            if (auto i = numberAfter(text, "hello ")) {
                if (helloNicks_.emplace(static_cast<int>(*i), nick).second) lastHello_ = at;
            } else if (auto seq = numberAfter(text, "m2i ")) {
                m2i_.received(*seq, at);
            } else if (auto q = numberAfter(text, "queued ")) {
                queued_.received(*q, at);
            }
        } else if (msg->command == "JOIN") {
            lastJoin_[nick] = at;
            if (nick == kBotNick) ++botJoins_;
        }
        changed_.notify_all();
    }

    // Polls `pred` under the lock until true or the deadline, calling `progress` every 10 s.
    template <typename Pred>
    bool waitUntil(Pred pred, std::chrono::seconds timeout, const std::function<void()>& progress = {}) {
        auto deadline = Clock::now() + timeout;
        auto nextReport = Clock::now() + 10s;
        std::unique_lock lock(mutex_);
        while (!pred()) {
            auto now = Clock::now();
            if (now >= deadline) return false;
            changed_.wait_for(lock, 200ms);
            if (progress && Clock::now() >= nextReport) {
                nextReport += 10s;
                lock.unlock();
                progress();
                lock.lock();
            }
        }
        return true;
    }

    std::size_t hellos() {
        std::lock_guard lock(mutex_);
        return helloNicks_.size();
    }
    std::size_t hellosLocked() const { return helloNicks_.size(); }
    std::size_t botJoinsLocked() const { return botJoins_; }
    Clock::time_point lastHello() {
        std::lock_guard lock(mutex_);
        return lastHello_;
    }
    std::string nickOf(int user) {
        std::lock_guard lock(mutex_);
        auto it = helloNicks_.find(user);
        return it == helloNicks_.end() ? std::string() : it->second;
    }
    // How many of `nicks` JOINed at or after `since`, and when the last of them did.
    std::pair<std::size_t, Clock::time_point> rejoinedLocked(const std::vector<std::string>& nicks,
                                                             Clock::time_point since) const {
        std::size_t n = 0;
        Clock::time_point last = since;
        for (const auto& nick : nicks) {
            auto it = lastJoin_.find(nick);
            if (it != lastJoin_.end() && it->second >= since) {
                ++n;
                last = std::max(last, it->second);
            }
        }
        return {n, last};
    }
    // Registrations of `nicks` the ircd reported at or after `since`, in order.
    std::vector<Clock::time_point> connectsSince(Clock::time_point since, const std::set<std::string>& nicks) {
        std::lock_guard lock(mutex_);
        std::vector<Clock::time_point> out;
        for (const auto& [t, nick] : connects_)
            if (t >= since && nicks.count(nick)) out.push_back(t);
        return out;
    }
    std::size_t connectCount() {
        std::lock_guard lock(mutex_);
        return connects_.size();
    }
    std::size_t quitsSinceLocked(Clock::time_point since) const {
        return static_cast<std::size_t>(
            std::count_if(quits_.begin(), quits_.end(), [&](auto t) { return t >= since; }));
    }
    std::mutex& mutex() { return mutex_; }

private:
    ProbeLog& m2i_;
    ProbeLog& queued_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::pair<Clock::time_point, std::string>> connects_;  // time, nick
    std::vector<Clock::time_point> quits_;
    std::map<int, std::string> helloNicks_;  // user index -> puppet nick
    Clock::time_point lastHello_{};
    std::map<std::string, Clock::time_point> lastJoin_;
    std::size_t botJoins_ = 0;
};

// The bridge's memory and threads, sampled every 100 ms.
class Sampler {
public:
    explicit Sampler(pid_t pid) : pid_(pid), thread_([this] { loop(); }) {}
    ~Sampler() {
        stop_ = true;
        thread_.join();
    }
    long peakRssKiB() const { return peakRss_; }
    long peakThreads() const { return peakThreads_; }

private:
    void loop() {
        while (!stop_) {
            if (auto s = readProcStatus(pid_)) {
                peakRss_ = std::max<long>(peakRss_, s->rssKiB);
                peakThreads_ = std::max<long>(peakThreads_, s->threads);
            }
            std::this_thread::sleep_for(100ms);
        }
    }
    pid_t pid_;
    std::atomic<bool> stop_{false};
    std::atomic<long> peakRss_{0};
    std::atomic<long> peakThreads_{0};
    std::thread thread_;
};

std::string bridgeConfig(const Options& o, const test::TempDir& dir, const std::string& hsUrl,
                         std::uint16_t bridgePort, std::uint16_t ircPort) {
    std::ostringstream y;
    y << "homeserver:\n  url: " << hsUrl << "\n  server_name: " << kServerName
      << "\n  startup_timeout_seconds: 20\n"
      << "appservice:\n  id: mxbridge\n  bind_address: 127.0.0.1\n  port: " << bridgePort
      << "\n  public_url: http://127.0.0.1:" << bridgePort << "\n  registration_file: "
      << (dir / "registration.yaml").string() << "\n  as_token: " << kAsToken
      << "\n  hs_token: " << kHsToken << "\n  bot_localpart: ircbot\n"
      << "database:\n  path: " << (dir / "mxbridge.db").string() << "\n"
      << "logging:\n  level: info\n"
      << "bridge:\n  type: irc\n  networks:\n"
      << "    - name: scale\n      address: 127.0.0.1\n      port: " << ircPort
      << "\n      tls: false\n      bot_nick: " << kBotNick << "\n"
      // What an operator raises for an ircd of their own: the defaults (2/s, burst 5) are
      // for public networks, and would take over an hour to bring 10,000 puppets up.
      << "      connect_rate: {per_second: " << o.connectRate << ", burst: " << o.connectBurst << "}\n"
      // The bot joins every channel through its flood-controlled queue: paced at 5/s, not 0.5/s.
      << "      flood: {burst: 10, interval_ms: 200}\n";
    return y.str();
}

std::string percentEncodeAlias(std::string alias) {
    alias = test::replaceAll(std::move(alias), "#", "%23");
    return test::replaceAll(std::move(alias), ":", "%3A");
}

// The portal of `channel`, created the way a Matrix user's join by alias creates it: the
// homeserver asks the bridge about the alias.
std::string openPortal(test::HomeserverDouble& hs, const std::string& channel) {
    const std::string alias = "#irc_" + channel + ":" + kServerName;
    test::HttpClient client(hs.port());
    client.get("/_matrix/client/v3/directory/room/" + percentEncodeAlias(alias),
               {{"Authorization", std::string("Bearer ") + kAsToken}}, 30s);
    auto room = hs.roomForAlias(alias);
    if (!room) throw test::HarnessError("no portal for " + alias);
    return *room;
}

// The bridge's own count of connections up (bot + puppets), from /metrics.
long bridgeConnected(std::uint16_t bridgePort) {
    try {
        test::HttpClient client(bridgePort, false);
        auto res = client.get("/metrics", {}, 10s);
        std::smatch m;
        static const std::regex re(R"(mxbridge_remote_connections\{[^}]*state="connected"[^}]*\} (\d+))");
        if (res.status == 200 && std::regex_search(res.body, m, re)) return std::stol(m[1]);
    } catch (const std::exception&) {
    }
    return -1;
}

void row(const std::string& what, const std::string& value) {
    std::printf("| %-58s | %-40s |\n", what.c_str(), value.c_str());
}

void latencyRow(const char* direction, const char* window, const LatencySummary& s) {
    std::printf("| %-12s | %-13s | %5zu | %8zu | %8s | %8s | %8s |\n", direction, window, s.sent,
                s.received, fmt(s.p50Ms).c_str(), fmt(s.p99Ms).c_str(), fmt(s.maxMs).c_str());
}

int run(const Options& o) {
    const long fdLimit = raiseFdLimit();
    std::cout << "irc_scale: " << o.users << " puppets in " << o.channels << " channels, kill "
              << o.kill << ", connect_rate " << o.connectRate << "/s burst " << o.connectBurst
              << ", fd limit " << fdLimit << std::endl;
    if (fdLimit < o.users + 1000)
        throw std::runtime_error("fd limit " + std::to_string(fdLimit) + " is too low for " +
                                 std::to_string(o.users) + " puppets (raise ulimit -Hn)");

    test::TempDir dir("mxbridge-irc-scale");
    test::InspircdOptions ircdOptions;
    ircdOptions.configTemplate = std::string(MXBRIDGE_IRC_SCALE_DIR) + "/inspircd.conf";
    test::InspircdFixture ircd(ircdOptions);

    const std::uint16_t bridgePort = test::freePort();
    // A push may wait on a bridge busy with thousands of connections: long timeout, quick retry.
    test::HomeserverDouble hs(test::HomeserverConfig{
        .serverName = kServerName, .asToken = kAsToken, .hsToken = kHsToken,
        .appserviceUrl = "http://127.0.0.1:" + std::to_string(bridgePort), .senderLocalpart = "ircbot",
        .userNamespaceRegex = "@irc_.*:hs\\.test", .aliasNamespaceRegex = "#irc_.*:hs\\.test",
        .retryInitial = 50ms, .retryMax = 1000ms, .appserviceTimeout = 60s});

    test::writeFile(dir / "config.yaml", bridgeConfig(o, dir, hs.url(), bridgePort, ircd.port()));
    test::ProcessOptions po;
    po.argv = {o.mxbridge, "run", "-c", (dir / "config.yaml").string()};
    po.workDir = dir.path();
    po.logFile = dir / "mxbridge.log";
    po.name = "mxbridge";
    test::Process bridge(std::move(po));
    bridge.waitForLine("bridge is running", 60s);
    const pid_t pid = bridge.pid();
    Sampler sampler(pid);

    // --- the observer: oper, server notices, in every channel --------------------------------
    std::vector<std::string> channels;
    for (int c = 0; c < o.channels; ++c) channels.push_back(channelName(c));
    test::LineSocket sock = ircd.connectClient(kObserverNick);
    sock.writeLine("OPER admin adminpass");
    sock.readUntil(" 381 ");
    sock.writeLine(std::string("MODE ") + kObserverNick + " +s +cq");
    std::vector<std::string> all = channels;
    all.push_back(kProbeChannel);
    for (std::size_t i = 0; i < all.size(); i += 10) {
        std::string list;
        for (std::size_t j = i; j < std::min(all.size(), i + 10); ++j) list += (list.empty() ? "" : ",") + all[j];
        sock.writeLine("JOIN " + list);
    }
    sock.readUntil(" 366 " + std::string(kObserverNick) + " " + kProbeChannel + " ", 30s);

    ProbeLog m2i, i2m, queued;
    IrcSide side(m2i, queued);
    IrcObserver observer(std::move(sock), [&](std::string_view line, Clock::time_point at) { side.onLine(line, at); });

    // --- portals ------------------------------------------------------------------------------
    auto tPortals = Clock::now();
    std::vector<std::string> rooms;
    for (const auto& ch : channels) rooms.push_back(openPortal(hs, ch));
    const std::string probeRoom = openPortal(hs, kProbeChannel);
    if (!side.waitUntil([&] { return side.botJoinsLocked() >= all.size(); }, 120s))
        throw test::HarnessError("the bridge bot did not join every channel\n" + bridge.lastLines(30));
    std::cout << "portals: " << all.size() << " in " << fmt(millisBetween(tPortals, Clock::now()) / 1000, 2)
              << " s" << std::endl;

    // IRC -> Matrix probes are read off the probe room's timeline as they land.
    std::atomic<bool> pollStop{false};
    std::thread poller([&] {
        std::size_t seen = 0;
        while (!pollStop) {
            auto timeline = hs.timeline(probeRoom);
            auto now = Clock::now();
            for (; seen < timeline.size(); ++seen) {
                const json& e = timeline[seen];
                if (e.value("type", "") != "m.room.message" || !e.contains("content")) continue;
                if (auto seq = numberAfter(e["content"].value("body", ""), "i2m ")) i2m.received(*seq, now);
            }
            std::this_thread::sleep_for(2ms);
        }
    });
    struct JoinPoller {
        std::atomic<bool>& stop;
        std::thread& t;
        ~JoinPoller() {
            stop = true;
            t.join();
        }
    } joinPoller{pollStop, poller};

    // The ghost's first message registers and joins it: not a latency to measure.
    i2m.sent(0, Clock::now());
    observer.write(std::string("PRIVMSG ") + kProbeChannel + " :i2m 0");
    if (!side.waitUntil([&] { return i2m.outstanding() == 0; }, 60s))
        throw test::HarnessError("IRC -> Matrix warm-up message never reached the homeserver double\n" +
                                 bridge.lastLines(30));
    const ProcStatus before = readProcStatus(pid).value_or(ProcStatus{});

    // --- N users join and talk: N puppets -------------------------------------------------------
    auto tJoins = Clock::now();
    for (int i = 0; i < o.users; ++i) hs.forceJoin(rooms[i % o.channels], userId(i));
    if (!hs.waitForDelivery(std::chrono::seconds(o.upTimeoutSeconds)))
        throw test::HarnessError("the bridge did not take the joins\n" + bridge.lastLines(30));
    std::cout << "matrix joins: " << o.users << " delivered in "
              << fmt(millisBetween(tJoins, Clock::now()) / 1000, 2) << " s" << std::endl;

    const auto tUpStart = Clock::now();
    for (int i = 0; i < o.users; ++i)
        hs.sendAsUser(rooms[i % o.channels], userId(i), {{"msgtype", "m.text"}, {"body", "hello " + std::to_string(i)}});
    auto progress = [&] {
        auto s = readProcStatus(pid).value_or(ProcStatus{});
        std::cout << "  " << fmt(millisBetween(tUpStart, Clock::now()) / 1000, 0) << " s: " << side.hellos()
                  << " puppets talked, " << side.connectCount() << " connects at the ircd, bridge RSS "
                  << s.rssKiB / 1024 << " MB, " << hs.pendingEvents() << " events not yet pushed" << std::endl;
    };
    if (!side.waitUntil([&] { return side.hellosLocked() >= static_cast<std::size_t>(o.users); },
                        std::chrono::seconds(o.upTimeoutSeconds), progress))
        throw test::HarnessError("only " + std::to_string(side.hellos()) + " of " + std::to_string(o.users) +
                                 " puppets talked before the timeout\n" + bridge.lastLines(30));
    const double upSeconds = millisBetween(tUpStart, side.lastHello()) / 1000;
    std::this_thread::sleep_for(2s);  // let the last joins' NAMES and echoes settle
    const ProcStatus afterUp = readProcStatus(pid).value_or(ProcStatus{});
    const long fdsUp = countOpenFds(pid);
    const long connectedUp = bridgeConnected(bridgePort);
    const ProcStatus ircdUp = readProcStatus(ircd.process().pid()).value_or(ProcStatus{});
    std::cout << "up: " << o.users << " puppets in " << fmt(upSeconds, 1) << " s" << std::endl;

    // --- probes ----------------------------------------------------------------------------------
    std::vector<int> probeUsers;
    for (int k = 0; k < o.channels; ++k) probeUsers.push_back(o.users / 2 + k);
    std::atomic<bool> probing{true};
    std::thread prober([&] {
        const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / o.probeRate));
        auto next = Clock::now();
        for (std::uint64_t seq = 1; probing; ++seq) {
            int u = probeUsers[seq % probeUsers.size()];
            m2i.sent(seq, Clock::now());
            hs.sendAsUser(rooms[u % o.channels], userId(u), {{"msgtype", "m.text"}, {"body", "m2i " + std::to_string(seq)}});
            i2m.sent(seq, Clock::now());
            observer.write(std::string("PRIVMSG ") + kProbeChannel + " :i2m " + std::to_string(seq));
            next += period;
            std::this_thread::sleep_until(next);
        }
    });
    struct ProberStop {
        std::atomic<bool>& probing;
        std::thread& t;
        ~ProberStop() {
            probing = false;
            if (t.joinable()) t.join();
        }
    } proberStop{probing, prober};

    const auto tBaseline = Clock::now();
    auto probeProgress = [&](const char* phase) {
        std::cout << "  " << phase << ": probes not yet arrived: Matrix -> IRC " << m2i.outstanding()
                  << ", IRC -> Matrix " << i2m.outstanding() << std::endl;
    };
    for (int s = 0; s < o.baselineSeconds; ++s) {
        std::this_thread::sleep_for(1s);
        if ((s + 1) % 5 == 0) probeProgress("baseline");
    }

    // --- the storm: K puppets KILLed in one write -----------------------------------------------
    std::vector<std::string> killed;
    for (int i = 0; i < o.kill; ++i) killed.push_back(side.nickOf(i));
    std::string kills;
    for (const auto& nick : killed) kills += (kills.empty() ? "" : "\r\n") + std::string("KILL ") + nick + " :scale storm";
    const auto tStorm = Clock::now();
    observer.write(kills);
    // Matrix users whose puppet was just killed keep talking: their lines wait and go out after.
    const int queuedCount = std::min(o.kill, 100);
    for (int i = 0; i < queuedCount; ++i) {
        queued.sent(static_cast<std::uint64_t>(i), Clock::now());
        hs.sendAsUser(rooms[i % o.channels], userId(i), {{"msgtype", "m.text"}, {"body", "queued " + std::to_string(i)}});
    }
    Clock::time_point tKilled{}, tBack{};
    side.waitUntil([&] {
        if (side.quitsSinceLocked(tStorm) >= killed.size() && tKilled == Clock::time_point{}) tKilled = Clock::now();
        auto [n, last] = side.rejoinedLocked(killed, tStorm);
        tBack = last;
        return n >= killed.size();
    }, std::chrono::seconds(o.stormTimeoutSeconds), [&] {
        std::lock_guard lock(side.mutex());
        std::cout << "  storm: " << side.rejoinedLocked(killed, tStorm).first << " of " << killed.size()
                  << " rejoined" << std::endl;
        probeProgress("storm");
    });
    std::size_t rejoined = 0;
    {
        std::lock_guard lock(side.mutex());
        rejoined = side.rejoinedLocked(killed, tStorm).first;
    }
    const auto tStormEnd = rejoined >= killed.size() ? tBack : Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(o.afterSeconds));
    probing = false;
    prober.join();
    const auto tProbesEnd = Clock::now();
    side.waitUntil([&] { return m2i.outstanding() == 0 && i2m.outstanding() == 0 && queued.outstanding() == 0; }, 30s);

    const auto reconnects = side.connectsSince(tStorm, std::set<std::string>(killed.begin(), killed.end()));
    const std::size_t peak1s = peakInWindow(reconnects, 1s);
    const std::size_t largestTick = largestCluster(reconnects, 300ms);
    const double reconnectSpan = reconnects.size() > 1 ? millisBetween(reconnects.front(), reconnects.back()) / 1000 : 0;
    const ProcStatus end = readProcStatus(pid).value_or(ProcStatus{});
    const long connectedEnd = bridgeConnected(bridgePort);
    const auto specViolations = hs.specViolations().size();

    // --- report ----------------------------------------------------------------------------------
    const LatencySummary m2iBefore = m2i.summary(tBaseline, tStorm), m2iDuring = m2i.summary(tStorm, tStormEnd);
    const LatencySummary i2mBefore = i2m.summary(tBaseline, tStorm), i2mDuring = i2m.summary(tStorm, tStormEnd);
    const LatencySummary m2iAfter = m2i.summary(tStormEnd, tProbesEnd), i2mAfter = i2m.summary(tStormEnd, tProbesEnd);
    const LatencySummary queuedAll = queued.summary(tStorm, Clock::now());
    const double perConnKiB = static_cast<double>(afterUp.rssKiB - before.rssKiB) / o.users;
    const long hwm = std::max(end.hwmKiB, sampler.peakRssKiB());

    std::printf("\nIRC bridge scale run: %d puppets in %d channels, one InspIRCd on 127.0.0.1\n\n", o.users, o.channels);
    std::printf("| %-58s | %-40s |\n|%s|%s|\n", "figure", "measured", std::string(60, '-').c_str(),
                std::string(42, '-').c_str());
    row("puppets up: first message pushed -> all on IRC", fmt(upSeconds, 1) + " s (" + fmt(o.users / upSeconds, 0) + "/s)");
    row("bridge peak RSS (VmHWM)", fmt(hwm / 1024.0) + " MB");
    row("bridge RSS before puppets / with all up", fmt(before.rssKiB / 1024.0) + " MB / " + fmt(afterUp.rssKiB / 1024.0) + " MB");
    row("RSS per puppet connection", fmt(perConnKiB) + " KiB");
    row("bridge threads before puppets / all up / peak", std::to_string(before.threads) + " / " + std::to_string(afterUp.threads) +
        " / " + std::to_string(sampler.peakThreads()));
    row("bridge open fds with all up", std::to_string(fdsUp));
    row("bridge connections up (metrics), all up / end", std::to_string(connectedUp) + " / " + std::to_string(connectedEnd));
    row("ircd RSS with all up", fmt(ircdUp.rssKiB / 1024.0) + " MB");
    row("storm: puppets KILLed in one write", std::to_string(killed.size()) + (tKilled != Clock::time_point{}
        ? ", all gone " + fmt(millisBetween(tStorm, tKilled), 0) + " ms later" : ", not all seen leaving"));
    row("storm: all back and rejoined", rejoined >= killed.size() ? fmt(millisBetween(tStorm, tBack) / 1000, 2) + " s after the KILLs"
        : std::to_string(rejoined) + " of " + std::to_string(killed.size()) + " (timeout)");
    // InspIRCd completes registrations on its once-a-second tick, so its CONNECT notices come in
    // bursts: a tick's count is what reached it during the second before.
    row("storm: killed puppets registering again at the ircd", std::to_string(reconnects.size()) + " in ticks spanning " + fmt(reconnectSpan, 2) + " s");
    row("storm: largest 1-s registration tick vs limit", std::to_string(largestTick) + " vs " + std::to_string(o.connectRate) +
        "/s + burst " + std::to_string(o.connectBurst));
    row("storm: most registrations in any 1 s (two ticks may fall in)", std::to_string(peak1s));
    // The burst is spent at once; the rest is paced, over the span from first to last tick.
    row("storm: paced reconnect rate (beyond the burst)", reconnectSpan > 0 && reconnects.size() > static_cast<std::size_t>(o.connectBurst)
        ? fmt((reconnects.size() - o.connectBurst) / reconnectSpan, 0) + "/s vs limit " + std::to_string(o.connectRate) + "/s" : "-");
    row("lines sent by killed users during the storm", std::to_string(queuedAll.received) + "/" + std::to_string(queuedAll.sent) +
        " delivered, max " + fmt(queuedAll.maxMs / 1000, 2) + " s");
    row("homeserver double: spec violations", std::to_string(specViolations));
    std::printf("\nProbe latency, ms (%.0f/s each way; Matrix users whose puppets were not killed; IRC observer in %s)\n\n",
                o.probeRate, kProbeChannel);
    std::printf("| %-12s | %-13s | %5s | %8s | %8s | %8s | %8s |\n|%s|%s|%s|%s|%s|%s|%s|\n", "direction", "window",
                "sent", "received", "p50", "p99", "max", std::string(14, '-').c_str(), std::string(15, '-').c_str(),
                std::string(7, '-').c_str(), std::string(10, '-').c_str(), std::string(10, '-').c_str(),
                std::string(10, '-').c_str(), std::string(10, '-').c_str());
    latencyRow("Matrix -> IRC", "before storm", m2iBefore);
    latencyRow("Matrix -> IRC", "during storm", m2iDuring);
    latencyRow("Matrix -> IRC", "after storm", m2iAfter);
    latencyRow("IRC -> Matrix", "before storm", i2mBefore);
    latencyRow("IRC -> Matrix", "during storm", i2mDuring);
    latencyRow("IRC -> Matrix", "after storm", i2mAfter);

    const bool rssOk = hwm / 1024.0 < o.rssTargetMb;
    auto noStall = [&](const LatencySummary& s) { return s.received == s.sent && s.maxMs < o.stallMs; };
    const bool trafficOk = noStall(m2iDuring) && noStall(i2mDuring) && m2iDuring.sent > 0 && i2mDuring.sent > 0;
    const bool stormOk = rejoined >= killed.size() && queuedAll.received == queuedAll.sent;
    std::printf("\ntargets: peak RSS < %.0f MB: %s; every puppet back: %s; no stall (every probe during the storm "
                "delivered, max < %.0f ms): %s\n", o.rssTargetMb, rssOk ? "yes" : "NO", stormOk ? "yes" : "NO",
                o.stallMs, trafficOk ? "yes" : "NO");
    if (auto f = observer.failure(); !f.empty()) std::printf("observer: %s\n", f.c_str());

    auto tStop = Clock::now();
    bridge.terminate(60s);
    std::printf("bridge stopped (SIGTERM, %d QUITs) in %.1f s\n", o.users, millisBetween(tStop, Clock::now()) / 1000);
    return rssOk && trafficOk && stormOk ? 0 : 1;
}

}  // namespace
}  // namespace mxbridge::bench

int main(int argc, char** argv) {
    try {
        return mxbridge::bench::run(mxbridge::bench::parseOptions(argc, argv));
    } catch (const std::exception& e) {
        std::cerr << "mxbridge-irc-scale: " << e.what() << std::endl;
        return 2;
    }
}
