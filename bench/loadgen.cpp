// mxbridge-loadgen: pushes Matrix appservice transactions at any appservice, like a busy
// homeserver would, and reports throughput, ack latency, the target's peak RSS and its own CPU.
// K keep-alive connections ("streams"), each with one transaction in flight at a time (as
// Synapse sends them), all on one thread so the generator leaves the other core to the target.
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mxbridge::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kCounterDigits = 10;  // txn counter stamped into every event_id
constexpr std::size_t kPoolSize = 64;       // distinct bodies per stream, reused round-robin
constexpr int kMaxPrintedErrors = 10;

enum class Auth { Header, Query, Both };

struct Options {
    std::string url;
    std::string hsToken;
    bool legacyPaths = false;
    Auth auth = Auth::Header;
    int streams = 1;
    int eventsPerTxn = 1;
    long long totalEvents = 10000;
    double durationSeconds = 0;  // > 0: run for this long instead of totalEvents
    int rooms = 16;
    long long warmupEvents = 0;
    int pid = 0;
    bool json = false;
    bool tsv = false;
    std::string txnPrefix;
    double timeoutSeconds = 30;
};

[[noreturn]] void usage(const char* why) {
    if (why != nullptr) {
        std::cerr << "mxbridge-loadgen: " << why << "\n\n";
    }
    std::cerr <<
        R"(usage: mxbridge-loadgen --url http://HOST:PORT[/base] --hs-token TOKEN [options]

Sends PUT <base>/_matrix/app/v1/transactions/{txnId} with {"events":[...]} bodies of
m.room.message events; K streams, one transaction in flight per stream.

  -k K               concurrent streams (keep-alive connections)       [1]
  -e E               events per transaction                            [1]
  -n N               measured events in total (rounded up to whole transactions) [10000]
  --duration S       measure for S seconds instead of -n
  --warmup N         events sent before measuring (not counted)        [0]
  --rooms R          spread events over R room ids                     [16]
  --pid PID          target process: sample VmRSS every 100 ms, read VmHWM at the end
  --legacy-paths     unprefixed /transactions/{txnId} (homeservers before spec r0)
  --auth header|query|both  hs_token as Bearer header and/or ?access_token= [header]
  --txn-prefix P     prefix of txn and event ids; default unique per run
  --timeout S        per-transaction timeout, counted as an error       [30]
  --json             print one JSON object instead of the summary line
  --tsv              print one tab-separated row (run_bench.sh's table)
Exit status: 0 no errors, 1 some transactions failed, 2 bad usage or no connection.
)";
    std::exit(2);
}

template <typename T>
T parseNumber(const char* flag, const char* text) {
    T value{};
    const char* end = text + std::strlen(text);
    auto [ptr, ec] = std::from_chars(text, end, value);
    if (ec != std::errc() || ptr != end) {
        std::string why = std::string("bad number for ") + flag + ": " + text;
        usage(why.c_str());
    }
    return value;
}

Options parseOptions(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::string why = "missing value for " + arg;
                usage(why.c_str());
            }
            return argv[++i];
        };
        if (arg == "--url") {
            o.url = value();
        } else if (arg == "--hs-token") {
            o.hsToken = value();
        } else if (arg == "-k" || arg == "--streams") {
            o.streams = parseNumber<int>("-k", value());
        } else if (arg == "-e" || arg == "--events-per-txn") {
            o.eventsPerTxn = parseNumber<int>("-e", value());
        } else if (arg == "-n" || arg == "--events") {
            o.totalEvents = parseNumber<long long>("-n", value());
        } else if (arg == "--duration") {
            o.durationSeconds = parseNumber<double>("--duration", value());
        } else if (arg == "--warmup") {
            o.warmupEvents = parseNumber<long long>("--warmup", value());
        } else if (arg == "--rooms") {
            o.rooms = parseNumber<int>("--rooms", value());
        } else if (arg == "--pid") {
            o.pid = parseNumber<int>("--pid", value());
        } else if (arg == "--legacy-paths") {
            o.legacyPaths = true;
        } else if (arg == "--auth") {
            std::string mode = value();
            if (mode == "header") {
                o.auth = Auth::Header;
            } else if (mode == "query") {
                o.auth = Auth::Query;
            } else if (mode == "both") {
                o.auth = Auth::Both;
            } else {
                usage("--auth takes header, query or both");
            }
        } else if (arg == "--txn-prefix") {
            o.txnPrefix = value();
        } else if (arg == "--timeout") {
            o.timeoutSeconds = parseNumber<double>("--timeout", value());
        } else if (arg == "--json") {
            o.json = true;
        } else if (arg == "--tsv") {
            o.tsv = true;
        } else if (arg == "-h" || arg == "--help") {
            usage(nullptr);
        } else {
            std::string why = "unknown option " + arg;
            usage(why.c_str());
        }
    }
    if (o.url.empty() || o.hsToken.empty()) {
        usage("--url and --hs-token are required");
    }
    if (o.streams < 1 || o.eventsPerTxn < 1 || o.rooms < 1 || o.totalEvents < 1 ||
        o.warmupEvents < 0 || o.durationSeconds < 0 || o.timeoutSeconds <= 0) {
        usage("-k, -e, -n, --rooms must be >= 1; --warmup, --duration >= 0");
    }
    if (o.txnPrefix.empty()) {
        // Unique per run, so repeated runs against one journal never reuse a txn or event id.
        auto now = std::chrono::system_clock::now().time_since_epoch();
        o.txnPrefix =
            "b" +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) +
            "p" + std::to_string(::getpid());
    }
    return o;
}

struct Target {
    std::string host;
    std::string port;
    std::string basePath;  // without a trailing '/'
};

Target parseUrl(const std::string& url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) {
        usage("--url must start with http:// (TLS is out of scope: benchmark on loopback)");
    }
    std::string rest = url.substr(scheme.size());
    Target t;
    std::size_t slash = rest.find('/');
    std::string hostPort = rest.substr(0, slash);
    t.basePath = slash == std::string::npos ? "" : rest.substr(slash);
    while (!t.basePath.empty() && t.basePath.back() == '/') {
        t.basePath.pop_back();
    }
    std::size_t colon = hostPort.rfind(':');
    t.host = hostPort.substr(0, colon);
    t.port = colon == std::string::npos ? "80" : hostPort.substr(colon + 1);
    return t;
}

// Pre-built transaction bodies. Only the txn counter inside each event_id changes between
// sends, stamped in place at fixed offsets, so the timed phase does no JSON generation.
struct BodyTemplate {
    std::string body;
    std::vector<std::size_t> counterOffsets;
};

std::string jsonEscape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

BodyTemplate buildBody(const std::string& prefix, int stream, std::size_t poolIndex, int events,
                       int rooms, long long originTs) {
    static const char* const kWords[] = {
        "the",    "bridge", "relays", "every",  "message", "between", "matrix", "and",
        "irc",    "rooms",  "while",  "ghosts", "keep",    "their",   "names",  "in",
        "sync",   "across", "both",   "sides",  "queue",   "journal", "acked",  "after",
        "commit", "portal", "puppet", "login",  "relay",   "typing",  "quick",  "lunch?"};
    constexpr std::size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);
    BodyTemplate t;
    t.body = "{\"events\":[";
    for (int i = 0; i < events; ++i) {
        const std::size_t seq =
            poolIndex * static_cast<std::size_t>(events) + static_cast<std::size_t>(i);
        std::string text;
        std::size_t h = seq * 2654435761u + static_cast<std::size_t>(stream) * 40503u;
        while (text.size() < 45) {
            text += kWords[h % kWordCount];
            text += ' ';
            h = h * 6364136223846793005ull + 1442695040888963407ull;
            h ^= h >> 29;
        }
        text.pop_back();
        const int room = static_cast<int>((seq + static_cast<std::size_t>(stream) * 7) %
                                          static_cast<std::size_t>(rooms));
        const int user = static_cast<int>((seq * 13 + static_cast<std::size_t>(stream)) % 100);
        char roomId[64];
        std::snprintf(roomId, sizeof(roomId), "!benchroom%04d:bench.local", room);
        if (i > 0) {
            t.body += ',';
        }
        t.body += "{\"content\":{\"body\":\"" + jsonEscape(text) +
                  "\",\"msgtype\":\"m.text\",\"format\":\"org.matrix.custom.html\","
                  "\"formatted_body\":\"<b>" +
                  jsonEscape(text) + "</b>\"},\"event_id\":\"$" + prefix + "-" +
                  std::to_string(stream) + "-";
        t.counterOffsets.push_back(t.body.size());
        t.body += std::string(kCounterDigits, '0');
        t.body += "-" + std::to_string(i) +
                  ":bench.local\",\"origin_server_ts\":" + std::to_string(originTs + i) +
                  ",\"room_id\":\"" + roomId + "\",\"sender\":\"@user" + std::to_string(user) +
                  ":bench.local\",\"type\":\"m.room.message\",\"unsigned\":{\"age\":" +
                  std::to_string(100 + seq % 900) + "}}";
    }
    t.body += "]}";
    return t;
}

void stampCounter(std::string& body, const std::vector<std::size_t>& offsets, long long n) {
    char digits[kCounterDigits];
    long long v = n;
    for (std::size_t d = kCounterDigits; d-- > 0;) {
        digits[d] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    for (std::size_t at : offsets) {
        std::memcpy(body.data() + at, digits, kCounterDigits);
    }
}

double cpuSeconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// A "VmRSS:   12345 kB" style field of /proc/PID/status, in kB; nullopt if unreadable.
std::optional<long long> procStatusKb(int pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const std::size_t len = std::strlen(field);
    while (std::getline(in, line)) {
        if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
            return std::atoll(line.c_str() + len + 1);
        }
    }
    return std::nullopt;
}

enum class Phase { Warmup, Measured };

// What all streams share: the work counters and the results. One thread, so no locks.
struct Run {
    Run(const Options& o, asio::io_context& ioc) : options(o), io(ioc) {}

    const Options& options;
    asio::io_context& io;
    tcp::resolver::results_type endpoints;
    std::string pathPrefix;

    long long warmupTxnsLeft = 0;
    long long warmupInFlight = 0;
    long long measuredTxnsLeft = 0;
    bool measuring = false;
    Clock::time_point measureStart;
    Clock::time_point measureEnd;
    Clock::time_point deadline = Clock::time_point::max();
    double cpuAtStart = 0;
    int streamsRunning = 0;
    std::vector<std::function<void()>> parked;  // streams waiting for warmup to finish

    std::vector<std::int64_t> latenciesNs;
    long long txnsOk = 0;
    long long eventsOk = 0;
    long long errors = 0;
    int printedErrors = 0;
    long long maxRssKb = 0;

    void reportError(const std::string& what) {
        ++errors;
        if (printedErrors++ < kMaxPrintedErrors) {
            std::cerr << "mxbridge-loadgen: " << what << "\n";
        } else if (printedErrors == kMaxPrintedErrors + 1) {
            std::cerr << "mxbridge-loadgen: (further errors counted, not printed)\n";
        }
    }

    void beginMeasuring() {
        measuring = true;
        measureStart = Clock::now();
        cpuAtStart = cpuSeconds();
        if (options.durationSeconds > 0) {
            deadline = measureStart + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options.durationSeconds));
        }
        auto waiting = std::move(parked);
        parked.clear();
        for (auto& resume : waiting) {
            resume();
        }
    }

    // The next transaction for a stream: warmup, measured, or none left (nullopt). A stream
    // that finishes its warmup share early waits in `parked` so measuring starts for all at once.
    enum class Next { Warmup, Measured, Wait, Done };
    Next next() {
        if (warmupTxnsLeft > 0) {
            --warmupTxnsLeft;
            ++warmupInFlight;
            return Next::Warmup;
        }
        if (!measuring) {
            if (warmupInFlight > 0) {
                return Next::Wait;
            }
            beginMeasuring();
        }
        if (options.durationSeconds > 0) {
            return Clock::now() < deadline ? Next::Measured : Next::Done;
        }
        if (measuredTxnsLeft > 0) {
            --measuredTxnsLeft;
            return Next::Measured;
        }
        return Next::Done;
    }

    void warmupAcked() {
        if (--warmupInFlight == 0 && warmupTxnsLeft == 0 && !measuring) {
            beginMeasuring();
        }
    }
};

class Stream {
public:
    Stream(Run& run, int index) : run_(run), index_(index), stream_(run.io) {
        const Options& o = run.options;
        const long long originTs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
        for (std::size_t p = 0; p < kPoolSize; ++p) {
            pool_.push_back(buildBody(o.txnPrefix, index, p, o.eventsPerTxn, o.rooms, originTs));
        }
        req_.method(http::verb::put);
        req_.version(11);
        req_.keep_alive(true);
        req_.set(http::field::host, std::string(run.endpoints.begin()->host_name()) + ":" +
                                        std::string(run.endpoints.begin()->service_name()));
        req_.set(http::field::content_type, "application/json");
        if (o.auth != Auth::Query) {
            req_.set(http::field::authorization, "Bearer " + o.hsToken);
        }
        req_.set(http::field::user_agent, "mxbridge-loadgen");
        targetPrefix_ =
            run.pathPrefix + "/transactions/" + o.txnPrefix + "-" + std::to_string(index) + "-";
        if (o.auth != Auth::Header) {
            querySuffix_ = "?access_token=" + o.hsToken;  // tokens are URL-safe by convention
        }
        req_.body().reserve(pool_[0].body.size() + 64);
    }

    std::size_t bodyBytes() const { return pool_[0].body.size(); }

    void start() {
        ++run_.streamsRunning;
        sendNext();
    }

private:
    // Connects if needed, then sends the transaction sendNext() chose. A connect failure fails
    // that transaction; three in a row end the stream instead of spinning.
    void connectThenSend() {
        if (connected_) {
            send();
            return;
        }
        stream_.expires_after(std::chrono::seconds(10));
        stream_.async_connect(run_.endpoints, [this](beast::error_code ec, const tcp::endpoint&) {
            if (ec) {
                failed("connect: " + ec.message());
                return;
            }
            connectFailures_ = 0;
            connected_ = true;
            stream_.socket().set_option(tcp::no_delay(true));
            send();
        });
    }

    void sendNext() {
        switch (run_.next()) {
            case Run::Next::Done:
                finish();
                return;
            case Run::Next::Wait:
                run_.parked.push_back([this] { sendNext(); });
                return;
            case Run::Next::Warmup:
                phase_ = Phase::Warmup;
                break;
            case Run::Next::Measured:
                phase_ = Phase::Measured;
                break;
        }
        const long long n = counter_++;
        const BodyTemplate& t = pool_[static_cast<std::size_t>(n) % pool_.size()];
        req_.body().assign(t.body);
        stampCounter(req_.body(), t.counterOffsets, n);
        req_.target(targetPrefix_ + std::to_string(n) + querySuffix_);
        req_.prepare_payload();
        txnName_ = run_.options.txnPrefix + "-" + std::to_string(index_) + "-" + std::to_string(n);
        sentAt_ = Clock::now();
        connectThenSend();
    }

    void send() {
        res_ = {};
        stream_.expires_after(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(run_.options.timeoutSeconds)));
        http::async_write(stream_, req_, [this](beast::error_code ec, std::size_t) {
            if (ec) {
                failed("write: " + ec.message());
                return;
            }
            http::async_read(stream_, buffer_, res_, [this](beast::error_code ec, std::size_t) {
                if (ec) {
                    failed("read: " + ec.message());
                    return;
                }
                acked();
            });
        });
    }

    void acked() {
        const auto latency = Clock::now() - sentAt_;
        const bool ok = res_.result() == http::status::ok;
        if (phase_ == Phase::Warmup) {
            if (!ok) {
                run_.reportError("warmup txn " + txnName_ + ": HTTP " +
                                 std::to_string(res_.result_int()) + " " +
                                 res_.body().substr(0, 200));
            }
            run_.warmupAcked();
        } else if (ok) {
            run_.latenciesNs.push_back(
                std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count());
            ++run_.txnsOk;
            run_.eventsOk += run_.options.eventsPerTxn;
        } else {
            run_.reportError("txn " + txnName_ + ": HTTP " + std::to_string(res_.result_int()) +
                             " " + res_.body().substr(0, 200));
        }
        if (!res_.keep_alive()) {
            closeConnection();
        }
        sendNext();
    }

    void failed(const std::string& why) {
        run_.reportError("txn " + txnName_ + ": " + why);
        if (phase_ == Phase::Warmup) {
            run_.warmupAcked();
        }
        const bool neverConnected = !connected_;
        closeConnection();
        if (neverConnected && ++connectFailures_ >= 3) {
            finish();
            return;
        }
        sendNext();
    }

    void closeConnection() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        buffer_.clear();
        connected_ = false;
    }

    void finish() {
        if (finished_) {
            return;
        }
        finished_ = true;
        closeConnection();
        if (--run_.streamsRunning == 0) {
            run_.measureEnd = Clock::now();
            run_.io.stop();  // also ends the RSS sampler
        }
    }

    Run& run_;
    int index_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
    std::vector<BodyTemplate> pool_;
    std::string targetPrefix_;
    std::string querySuffix_;
    std::string txnName_;
    long long counter_ = 0;
    Clock::time_point sentAt_;
    Phase phase_ = Phase::Warmup;
    bool connected_ = false;
    bool finished_ = false;
    int connectFailures_ = 0;
};

void sampleRss(Run& run, asio::steady_timer& timer) {
    if (auto kb = procStatusKb(run.options.pid, "VmRSS")) {
        run.maxRssKb = std::max(run.maxRssKb, *kb);
    }
    timer.expires_after(std::chrono::milliseconds(100));
    timer.async_wait([&run, &timer](beast::error_code ec) {
        if (!ec) {
            sampleRss(run, timer);
        }
    });
}

double percentileMs(const std::vector<std::int64_t>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    // Nearest rank: the smallest value with at least p% of samples at or below it.
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return static_cast<double>(sorted[rank - 1]) / 1e6;
}

int runLoadgen(const Options& o) {
    const Target target = parseUrl(o.url);
    asio::io_context io(1);
    Run run(o, io);
    try {
        run.endpoints = tcp::resolver(io).resolve(target.host, target.port);
    } catch (const std::exception& e) {
        std::cerr << "mxbridge-loadgen: cannot resolve " << o.url << ": " << e.what() << "\n";
        return 2;
    }
    run.pathPrefix = target.basePath + (o.legacyPaths ? "" : "/_matrix/app/v1");
    const long long e = o.eventsPerTxn;
    run.warmupTxnsLeft = (o.warmupEvents + e - 1) / e;
    run.measuredTxnsLeft = (o.totalEvents + e - 1) / e;
    run.latenciesNs.reserve(o.durationSeconds > 0 ? 1u << 20
                                                  : static_cast<std::size_t>(run.measuredTxnsLeft));

    std::vector<std::unique_ptr<Stream>> streams;
    for (int k = 0; k < o.streams; ++k) {
        streams.push_back(std::make_unique<Stream>(run, k));
    }
    asio::steady_timer rssTimer(io);
    if (o.pid > 0) {
        if (!procStatusKb(o.pid, "VmRSS")) {
            std::cerr << "mxbridge-loadgen: --pid " << o.pid << ": no /proc status; not sampled\n";
        } else {
            sampleRss(run, rssTimer);
        }
    }
    for (auto& s : streams) {
        s->start();
    }
    io.run();
    if (!run.measuring) {
        run.measureStart = run.measureEnd;
        run.cpuAtStart = cpuSeconds();
    }
    const double cpu = cpuSeconds() - run.cpuAtStart;
    const double seconds = std::chrono::duration<double>(run.measureEnd - run.measureStart).count();
    std::vector<std::int64_t> sorted = run.latenciesNs;
    std::sort(sorted.begin(), sorted.end());
    const double txnRate = seconds > 0 ? static_cast<double>(run.txnsOk) / seconds : 0;
    const double eventRate = seconds > 0 ? static_cast<double>(run.eventsOk) / seconds : 0;
    const double p50 = percentileMs(sorted, 50), p90 = percentileMs(sorted, 90),
                 p99 = percentileMs(sorted, 99), pmax = percentileMs(sorted, 100);
    std::optional<long long> hwmKb;
    if (o.pid > 0) {
        hwmKb = procStatusKb(o.pid, "VmHWM");
        if (auto kb = procStatusKb(o.pid, "VmRSS")) {
            run.maxRssKb = std::max(run.maxRssKb, *kb);
        }
    }
    rusage self{};
    ::getrusage(RUSAGE_SELF, &self);
    const double rssMb = static_cast<double>(run.maxRssKb) / 1024.0;
    const double hwmMb = hwmKb ? static_cast<double>(*hwmKb) / 1024.0 : 0;
    const std::size_t bodyBytes = streams.front()->bodyBytes();

    char line[1024];
    if (o.json) {
        std::snprintf(
            line, sizeof(line),
            "{\"url\":\"%s\",\"streams\":%d,\"events_per_txn\":%d,\"body_bytes\":%zu,"
            "\"txns\":%lld,\"events\":%lld,\"seconds\":%.3f,\"txn_per_s\":%.1f,"
            "\"events_per_s\":%.1f,\"ack_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
            "\"max\":%.3f},\"errors\":%lld,\"target_pid\":%d,\"target_max_rss_mb\":%s,"
            "\"target_vmhwm_mb\":%s,\"generator_cpu_s\":%.3f,\"generator_max_rss_mb\":%.1f,"
            "\"txn_prefix\":\"%s\"}",
            o.url.c_str(), o.streams, o.eventsPerTxn, bodyBytes, run.txnsOk, run.eventsOk, seconds,
            txnRate, eventRate, p50, p90, p99, pmax, run.errors, o.pid,
            o.pid > 0 ? std::to_string(rssMb).c_str() : "null",
            hwmKb ? std::to_string(hwmMb).c_str() : "null", cpu,
            static_cast<double>(self.ru_maxrss) / 1024.0, o.txnPrefix.c_str());
    } else if (o.tsv) {
        std::snprintf(line, sizeof(line),
                      "%.1f\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%lld\t%.1f\t%.1f\t%.3f", eventRate,
                      txnRate, p50, p90, p99, pmax, run.errors, rssMb, hwmMb, cpu);
    } else {
        char rss[128] = "";
        if (o.pid > 0) {
            std::snprintf(rss, sizeof(rss), " | target peak RSS %.1f MB", rssMb);
            if (hwmKb) {
                std::snprintf(rss + std::strlen(rss), sizeof(rss) - std::strlen(rss),
                              " (VmHWM %.1f MB)", hwmMb);
            }
        }
        std::snprintf(line, sizeof(line),
                      "K=%d E=%d: %lld txns, %lld events in %.3f s | %.1f txn/s, %.1f events/s | "
                      "ack ms p50 %.3f p90 %.3f p99 %.3f max %.3f | errors %lld%s | "
                      "generator CPU %.3f s",
                      o.streams, o.eventsPerTxn, run.txnsOk, run.eventsOk, seconds, txnRate,
                      eventRate, p50, p90, p99, pmax, run.errors, rss, cpu);
    }
    std::cout << line << std::endl;
    if (run.txnsOk == 0 && run.errors > 0) {
        return 2;
    }
    return run.errors > 0 ? 1 : 0;
}

}  // namespace mxbridge::bench

int main(int argc, char** argv) {
    return mxbridge::bench::runLoadgen(mxbridge::bench::parseOptions(argc, argv));
}
