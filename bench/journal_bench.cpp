// The journal and dispatcher alone, without HTTP: K submitter threads each keep one
// transaction of E events in flight (as the load generator's streams do), a handler that
// accepts everything, and a real SQLite file. Prints transactions/s and the CPU each of the
// framework's threads spent per transaction, so a change to the journal can be measured
// without the noise of sockets and the generator sharing the cores.
//
//   mxbridge-journal-bench [-k 4] [-e 50] [-n 20000] [--rooms 16] [--durability process_crash]
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journal/dispatcher.h"
#include "journal/journal.h"
#include "journal/transaction_parser.h"
#include "store/database.h"

using namespace mxbridge;
using namespace mxbridge::detail;

namespace {

struct Options {
    int streams = 4;
    int events = 50;
    int transactions = 20000;
    int rooms = 16;
    Durability durability = Durability::ProcessCrash;
};

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: mxbridge-journal-bench [-k STREAMS] [-e EVENTS] [-n TRANSACTIONS] "
                         "[--rooms R] [--durability process_crash|power_loss]\n");
    std::exit(2);
}

Options parseOptions(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc) usage();
        std::string value = argv[++i];
        if (arg == "-k") o.streams = std::stoi(value);
        else if (arg == "-e") o.events = std::stoi(value);
        else if (arg == "-n") o.transactions = std::stoi(value);
        else if (arg == "--rooms") o.rooms = std::stoi(value);
        else if (arg == "--durability" && value == "power_loss") o.durability = Durability::PowerLoss;
        else if (arg == "--durability" && value == "process_crash") o.durability = Durability::ProcessCrash;
        else usage();
    }
    if (o.streams < 1 || o.events < 1 || o.transactions < o.streams || o.rooms < 1) usage();
    return o;
}

// A body shaped like the load generator's: ~410-byte m.room.message events over R rooms.
std::string makeBody(int stream, int txn, const Options& o) {
    std::string body = "{\"events\":[";
    for (int i = 0; i < o.events; ++i) {
        if (i) body += ',';
        int room = (txn * o.events + i + stream * 7) % o.rooms;
        body += "{\"content\":{\"body\":\"the bridge relays every message between matrix and irc\","
                "\"msgtype\":\"m.text\",\"format\":\"org.matrix.custom.html\",\"formatted_body\":"
                "\"<b>the bridge relays every message between matrix and irc</b>\"},\"event_id\":\"$jb-" +
                std::to_string(stream) + "-" + std::to_string(txn) + "-" + std::to_string(i) +
                ":bench.local\",\"origin_server_ts\":1700000000000,\"room_id\":\"!benchroom" +
                std::to_string(room) + ":bench.local\",\"sender\":\"@user" + std::to_string(i % 100) +
                ":bench.local\",\"type\":\"m.room.message\",\"unsigned\":{\"age\":120}}";
    }
    return body + "]}";
}

// CPU seconds per thread name, from /proc (threads are named by the framework).
std::map<std::string, double> threadCpu() {
    std::map<std::string, double> out;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream commFile(task.path() / "comm"), statFile(task.path() / "stat");
        std::string comm, stat;
        std::getline(commFile, comm);
        std::getline(statFile, stat);
        auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::vector<std::string> fields;
        std::string field;
        for (char c : stat.substr(close + 2)) {
            if (c == ' ') {
                fields.push_back(field);
                field.clear();
            } else {
                field += c;
            }
        }
        if (fields.size() > 12) out[comm] += (std::stod(fields[11]) + std::stod(fields[12])) / tick;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parseOptions(argc, argv);
    auto dir = std::filesystem::temp_directory_path() /
               ("mxbridge-journal-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);

    // Bodies are built and parsed before the clock starts: this measures the journal.
    int perStream = o.transactions / o.streams;
    std::vector<std::vector<Submission>> prepared(static_cast<size_t>(o.streams));
    TransactionParser parser;
    for (int s = 0; s < o.streams; ++s) {
        for (int t = 0; t < perStream; ++t) {
            Submission sub;
            sub.txnId = "jb-" + std::to_string(s) + "-" + std::to_string(t);
            sub.body = std::make_shared<std::string>(makeBody(s, t, o));
            ParseOutcome parsed = parser.parse(*sub.body);
            if (parsed.status != ParseOutcome::Status::Ok) {
                std::fprintf(stderr, "generated body does not parse: %s\n", parsed.error.c_str());
                return 1;
            }
            sub.items = std::move(parsed.items);
            prepared[static_cast<size_t>(s)].push_back(std::move(sub));
        }
    }

    Metrics metrics;
    {
        Database database((dir / "bench.db").string(), "journal-bench", o.durability);
        Journal journal(database, JournalOptions{}, metrics);
        Dispatcher dispatcher(
            4, [](DispatchItem&) { return HandleResult{}; },
            [&journal](std::vector<Completion>&& done) { journal.complete(std::move(done)); }, metrics,
            [&journal](std::vector<KvWrite>& writes) { journal.showWrites(writes); });
        journal.recover();
        journal.start([&dispatcher](std::vector<DispatchItem>&& items) { dispatcher.enqueue(std::move(items)); },
                      [&dispatcher] { return dispatcher.backlog(); });
        dispatcher.start();

        auto cpuBefore = threadCpu();
        auto started = std::chrono::steady_clock::now();
        std::vector<std::thread> streams;
        for (int s = 0; s < o.streams; ++s) {
            streams.emplace_back([&, s] {
                std::mutex m;
                std::condition_variable cv;
                for (Submission& sub : prepared[static_cast<size_t>(s)]) {
                    bool done = false;
                    sub.onDone = [&](SubmitOutcome) {
                        std::lock_guard lock(m);
                        done = true;
                        cv.notify_one();
                    };
                    journal.submit(std::move(sub));
                    std::unique_lock lock(m);
                    cv.wait(lock, [&] { return done; });
                }
            });
        }
        for (auto& t : streams) t.join();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        auto cpuAfter = threadCpu();
        dispatcher.stop(std::chrono::seconds(10));
        journal.stop();

        double txns = static_cast<double>(perStream) * o.streams;
        std::printf("K=%d E=%d: %.0f txns in %.2f s | %.0f txn/s, %.0f events/s | CPU us/txn:",
                    o.streams, o.events, txns, seconds, txns / seconds, txns * o.events / seconds);
        double total = 0;
        for (const auto& [name, cpu] : cpuAfter) {
            if (name.rfind("mxb-", 0) != 0) continue;
            double spent = cpu - cpuBefore[name];
            total += spent;
            std::printf(" %s %.0f", name.c_str(), spent / txns * 1e6);
        }
        std::printf(" | total %.0f\n", total / txns * 1e6);
    }
    std::filesystem::remove_all(dir);
    return 0;
}
