// The crash test: transactions stream into the real `mxbridge` (probe bridge) from several
// homeserver-like senders while the bridge is killed with SIGKILL at random moments and
// restarted. Afterwards the probe's records in the database must show every acknowledged
// event handled exactly once, nothing that was never sent, and each room's events in the
// order they were sent. Set MXBRIDGE_CRASH_SEED to replay a run; the seed is printed.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "harness_error.h"
#include "http_client.h"
#include "ports.h"
#include "process.h"
#include "temp_dir.h"

using namespace mxbridge::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kSenders = 4;         // concurrent client threads, as K in the issue
constexpr int kRoomsPerSender = 4;  // each sender owns its rooms, so "sent order" is defined
const std::string kHsToken = "hs-crash-test-token";

struct Txn {
    std::string id;
    std::string body;
    std::vector<std::pair<std::string, std::string>> events;  // (event id, room); new ones only
};

// One sender behaves like a homeserver's appservice queue: it retries its current
// transaction (same txnId, same body) until it is acknowledged, and only then sends the next.
struct Sender {
    int index = 0;
    std::vector<Txn> planned;
    size_t next = 0;              // index of the transaction being sent (or to send)
    bool currentEverSent = false; // whether planned[next] has been sent at least once
    std::vector<size_t> acked;    // indices of acknowledged transactions, in order
    uint64_t attempts = 0, failures = 0, ackedResends = 0;
};

std::string eventJson(const std::string& id, const std::string& room, int n) {
    return R"({"type":"m.room.message","event_id":")" + id + R"(","room_id":")" + room +
           R"(","sender":"@alice:crash.test","origin_server_ts":)" + std::to_string(1700000000000 + n) +
           R"(,"content":{"msgtype":"m.text","body":"message )" + std::to_string(n) + R"("}})";
}

// Plans `count` transactions for sender `s`: 1-4 events each over the sender's rooms; now and
// then one event of an earlier transaction again (a homeserver may resend an event in a new
// transaction; the bridge must drop it), and now and then an empty transaction.
std::vector<Txn> planTransactions(const std::string& run, int s, size_t count, std::mt19937_64& rng) {
    std::vector<Txn> out;
    std::vector<std::pair<std::string, std::string>> earlier;
    int n = 0;
    for (size_t t = 0; t < count; ++t) {
        Txn txn;
        txn.id = run + "-s" + std::to_string(s) + "-" + std::to_string(t);
        std::vector<std::string> parts;
        int events = rng() % 20 == 0 ? 0 : 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < events; ++e) {
            std::string room = "!" + run + "-s" + std::to_string(s) + "r" +
                               std::to_string(rng() % kRoomsPerSender) + ":crash.test";
            std::string id = "$" + run + "-s" + std::to_string(s) + "e" + std::to_string(n) + ":crash.test";
            parts.push_back(eventJson(id, room, n++));
            txn.events.emplace_back(id, room);
        }
        if (!earlier.empty() && rng() % 10 == 0) {
            auto& [id, room] = earlier[rng() % earlier.size()];
            parts.push_back(eventJson(id, room, -1));
        }
        for (auto& e : txn.events) earlier.push_back(e);
        txn.body = R"({"events":[)";
        for (size_t i = 0; i < parts.size(); ++i) txn.body += (i ? "," : "") + parts[i];
        txn.body += "]}";
        out.push_back(std::move(txn));
    }
    return out;
}

std::string configYaml(const TempDir& dir, uint16_t port, const std::string& durability) {
    std::ostringstream y;
    y << "homeserver:\n"
      << "  url: http://127.0.0.1:9\n"  // never called: no startup check, the probe sends nothing
      << "  server_name: crash.test\n"
      << "  check_on_startup: false\n"
      << "appservice:\n"
      << "  id: crashtest\n"
      << "  bind_address: 127.0.0.1\n"
      << "  port: " << port << "\n"
      << "  public_url: http://127.0.0.1:" << port << "\n"
      << "  registration_file: " << (dir / "registration.yaml").string() << "\n"
      << "  as_token: as-crash-test-token\n"
      << "  hs_token: " << kHsToken << "\n"
      << "  dispatch_workers: 4\n"
      << "database:\n"
      << "  path: " << (dir / "data/bridge.db").string() << "\n"
      << "  durability: " << durability << "\n"
      << "logging:\n"
      << "  level: info\n"
      << "bridge:\n"
      << "  type: " << MXBRIDGE_PROBE_BRIDGE_PATH << "\n"
      << "  slow_ms: 1\n";
    return y.str();
}

// One seed per test run, from MXBRIDGE_CRASH_SEED or chosen at random, printed once.
uint64_t runSeed() {
    static const uint64_t seed = [] {
        uint64_t s = std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32);
        if (const char* env = std::getenv("MXBRIDGE_CRASH_SEED")) s = std::strtoull(env, nullptr, 10);
        std::cout << "crash test seed: MXBRIDGE_CRASH_SEED=" << s << "\n";
        return s;
    }();
    return seed;
}

// A metric's value from /metrics text, or nullopt.
std::optional<double> metricValue(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, series.size() + 1, series + " ") == 0) return std::stod(line.substr(series.size() + 1));
    }
    return std::nullopt;
}

struct Figures {
    uint64_t kills = 0, replayedEvents = 0, replayStarts = 0, duplicateTxns = 0;
};

// Replays and duplicates reported by one bridge process (from its log and /metrics).
void noteReplays(Process& bridge, Figures& figures) {
    static const std::regex replay(R"(replaying events acknowledged .* events=([0-9]+))");
    for (const auto& line : bridge.lines()) {
        std::smatch m;
        if (std::regex_search(line, m, replay)) {
            figures.replayedEvents += std::stoull(m[1]);
            ++figures.replayStarts;
        }
    }
}

class CrashRun {
public:
    CrashRun(std::string durability, int kills, uint64_t seed)
        : durability_(std::move(durability)), kills_(kills), rng_(seed) {
        port_ = freePort();
        writeFile(dir_ / "config.yaml", configYaml(dir_, port_, durability_));
        std::string run = durability_ == "power_loss" ? "pl" : "pc";
        for (int s = 0; s < kSenders; ++s) {
            auto sender = std::make_unique<Sender>();
            sender->index = s;
            sender->planned = planTransactions(run, s, 12000, rng_);
            senders_.push_back(std::move(sender));
        }
    }

    void execute() {
        auto started = Clock::now();
        std::vector<std::thread> threads;
        for (int s = 0; s < kSenders; ++s) {
            threads.emplace_back([this, s, seed = rng_()] { senderLoop(*senders_[s], seed); });
        }
        for (int k = 0; k < kills_; ++k) {
            startBridge();
            // Mostly mid-stream; sometimes almost at once, while replays are still running.
            int ms = rng_() % 5 == 0 ? static_cast<int>(rng_() % 30) : 80 + static_cast<int>(rng_() % 250);
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            collectDuplicates();
            noteReplays(*bridge_, figures_);
            bridge_->kill9();
            ++figures_.kills;
            bridge_.reset();
            // Sometimes the bridge stays down a moment, and senders find the port closed.
            if (rng_() % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(rng_() % 50));
        }
        startBridge();
        std::this_thread::sleep_for(200ms);
        // Senders finish the transaction they are on (retrying until acked), then stop.
        finishing_ = true;
        for (auto& t : threads) t.join();
        REQUIRE_MESSAGE(!senderError_, senderErrorText_);
        waitForBacklogToDrain();
        collectDuplicates();
        noteReplays(*bridge_, figures_);
        auto exit = bridge_->terminate(15s);
        CHECK_MESSAGE(exit == 0, "the bridge did not stop cleanly on SIGTERM:\n" << bridge_->lastLines(40));
        elapsed_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    }

    void verify() {
        std::map<std::string, std::string> counts;
        std::map<std::string, std::string> logs;
        {
            SQLite::Database db((dir_ / "data/bridge.db").string(), SQLite::OPEN_READONLY);
            SQLite::Statement q(db, "SELECT key, value FROM bridge_kv");
            while (q.executeStep()) {
                std::string key = q.getColumn(0).getString();
                std::string value = q.getColumn(1).getString();
                if (key.rfind("count:", 0) == 0) counts[key.substr(6)] = value;
                else if (key.rfind("log:", 0) == 0) logs[key.substr(4)] = value;
            }
        }
        std::set<std::string> acked, neverSent;
        std::map<std::string, std::vector<std::string>> sentOrder;  // room -> event ids, as sent
        uint64_t ackedTxns = 0;
        for (const auto& s : senders_) {
            ackedTxns += s->acked.size();
            REQUIRE(s->next == s->acked.size());  // sequential: every sent transaction was acked
            for (size_t i = 0; i < s->planned.size(); ++i) {
                for (const auto& [id, room] : s->planned[i].events) {
                    if (i < s->next) {
                        acked.insert(id);
                        sentOrder[room].push_back(id);
                    } else if (neverSent.size() < 20000) {
                        neverSent.insert(id);
                    }
                }
            }
        }
        size_t wrongCounts = 0, missing = 0, unknown = 0, ghosts = 0;
        std::string examples;
        auto example = [&](const std::string& what) {
            if (examples.size() < 600) examples += "  " + what + "\n";
        };
        for (const auto& id : acked) {
            auto it = counts.find(id);
            if (it == counts.end()) {
                ++missing;
                example("acknowledged but never handled: " + id);
            } else if (it->second != "1") {
                ++wrongCounts;
                example("handled " + it->second + " times: " + id);
            }
        }
        for (const auto& [id, count] : counts) {
            if (acked.count(id)) continue;
            if (neverSent.count(id)) {
                ++ghosts;
                example("handled but never sent: " + id);
            } else {
                ++unknown;
                example("handled but unknown: " + id);
            }
        }
        size_t roomsOutOfOrder = 0;
        for (const auto& [room, ids] : sentOrder) {
            std::string expected;
            for (const auto& id : ids) expected += id + "\n";
            if (logs[room] != expected) {
                ++roomsOutOfOrder;
                example("room " + room + " log differs from the sent order");
            }
        }
        for (const auto& [room, _] : logs)
            if (!sentOrder.count(room)) example("log for a room never sent to: " + room);
        uint64_t attempts = 0, failures = 0, resends = 0;
        for (const auto& s : senders_) {
            attempts += s->attempts;
            failures += s->failures;
            resends += s->ackedResends;
        }
        std::cout << "crash test (" << durability_ << "): " << acked.size() << " events acked in "
                  << ackedTxns << " transactions over " << sentOrder.size() << " rooms; "
                  << figures_.kills << " kills; " << figures_.replayedEvents << " events replayed at "
                  << figures_.replayStarts << " restarts; " << figures_.duplicateTxns
                  << " duplicate transactions acked; " << resends << " acked transactions re-sent; "
                  << attempts << " requests, " << failures << " failed; " << elapsed_.count() << " ms\n";
        CHECK(figures_.kills >= 10);
        CHECK(acked.size() > 100);
        CHECK_MESSAGE(missing == 0, examples);
        CHECK_MESSAGE(wrongCounts == 0, examples);
        CHECK_MESSAGE(ghosts == 0, examples);
        CHECK_MESSAGE(unknown == 0, examples);
        CHECK_MESSAGE(roomsOutOfOrder == 0, examples);
        CHECK(logs.size() == sentOrder.size());
    }

private:
    void startBridge() {
        bridge_ = std::make_unique<Process>(ProcessOptions{
            .argv = {MXBRIDGE_CLI_PATH, "run", "-c", (dir_ / "config.yaml").string()},
            .name = "mxbridge"});
        bridge_->waitForPort(port_, 15s);
    }

    void collectDuplicates() {
        try {
            HttpClient client(port_, false);
            HttpResponse r = client.get("/metrics", {}, 2s);
            if (auto v = metricValue(r.body, "mxbridge_transactions_total{outcome=\"duplicate\"}"))
                figures_.duplicateTxns += static_cast<uint64_t>(*v);
        } catch (const std::exception&) {
        }
    }

    // A clean stop drains for a bounded time only; wait until every event was handled.
    void waitForBacklogToDrain() {
        auto deadline = Clock::now() + 30s;
        HttpClient client(port_);
        for (;;) {
            HttpResponse r = client.get("/metrics", {}, 2s);
            auto backlog = metricValue(r.body, "mxbridge_dispatch_backlog");
            REQUIRE(backlog.has_value());
            if (*backlog == 0) return;
            REQUIRE_MESSAGE(Clock::now() < deadline, "backlog still " << *backlog << " after 30 s");
            std::this_thread::sleep_for(20ms);
        }
    }

    // True when the bridge acknowledged (HTTP 200). Any failure is a missing ack.
    bool send(HttpClient& client, Sender& s, const Txn& txn) {
        ++s.attempts;
        try {
            HttpResponse r = client.put("/_matrix/app/v1/transactions/" + txn.id, txn.body,
                                        {{"Authorization", "Bearer " + kHsToken},
                                         {"Content-Type", "application/json"}},
                                        3s);
            if (r.status == 200) return true;
            if (r.status != 500 && r.status != 503) {
                std::lock_guard lock(errorMutex_);
                senderError_ = true;
                senderErrorText_ = "transaction " + txn.id + " answered " + std::to_string(r.status) + ": " + r.body;
            }
        } catch (const std::exception&) {
            client.close();
        }
        ++s.failures;
        return false;
    }

    void senderLoop(Sender& s, uint64_t seed) {
        std::mt19937_64 rng(seed);
        HttpClient client(port_);
        auto deadline = Clock::now() + 90s;
        while (Clock::now() < deadline && !senderError_) {
            if (finishing_ && !s.currentEverSent) return;
            if (s.next >= s.planned.size()) return;
            const Txn& txn = s.planned[s.next];
            s.currentEverSent = true;
            if (send(client, s, txn)) {
                s.acked.push_back(s.next);
                ++s.next;
                s.currentEverSent = false;
                // Like a homeserver that lost its record of an ack: resend an acknowledged one.
                if (rng() % 16 == 0) {
                    const Txn& old = s.planned[s.acked[rng() % s.acked.size()]];
                    if (send(client, s, old)) ++s.ackedResends;
                }
                std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 1500));
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(2 + rng() % 5));
            }
        }
        if (!senderError_ && Clock::now() >= deadline) {
            std::lock_guard lock(errorMutex_);
            senderError_ = true;
            senderErrorText_ = "sender " + std::to_string(s.index) + " ran out of time";
        }
    }

    TempDir dir_{"mxbridge-crash"};
    std::string durability_;
    int kills_;
    std::mt19937_64 rng_;
    uint16_t port_ = 0;
    std::vector<std::unique_ptr<Sender>> senders_;
    std::unique_ptr<Process> bridge_;
    std::atomic<bool> finishing_{false};
    std::atomic<bool> senderError_{false};
    std::mutex errorMutex_;
    std::string senderErrorText_;
    Figures figures_;
    std::chrono::milliseconds elapsed_{0};
};

}  // namespace

TEST_CASE("every acknowledged event is handled exactly once across kill -9s (process_crash)") {
    CrashRun run("process_crash", 12, runSeed());
    run.execute();
    run.verify();
}

TEST_CASE("every acknowledged event is handled exactly once across kill -9s (power_loss)") {
    CrashRun run("power_loss", 10, runSeed() + 1);
    run.execute();
    run.verify();
}
