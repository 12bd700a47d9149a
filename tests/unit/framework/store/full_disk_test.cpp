// The journal on a disk that fills up for real: a tmpfs of a few MB mounted for the test
// (root only; without root the whole program is skipped, exit 77). Issue 9, item 14.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>

#include "../journal/journal_rig.h"
#include "mxbridge/log.h"
#include "ops/bridge_health.h"
#include "skip.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace mxbridge::detail::testing;
using mxbridge::test::TempDir;

namespace {

// A filesystem of `megabytes`, unmounted again when the test ends.
class SmallDisk {
public:
    explicit SmallDisk(int megabytes) {
        std::string options = "size=" + std::to_string(megabytes) + "m,mode=0700";
        mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0;
    }
    ~SmallDisk() {
        if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    std::filesystem::path operator/(const std::string& name) const { return dir_ / name; }

    // Writes `file` until the disk is full; returns how many bytes it took.
    size_t fillWith(const std::filesystem::path& file) const {
        int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        REQUIRE(fd >= 0);
        std::string chunk(64 * 1024, 'x');
        size_t total = 0;
        for (size_t size = chunk.size(); size >= 512;) {
            ssize_t n = ::write(fd, chunk.data(), size);
            if (n > 0) total += static_cast<size_t>(n);
            else size /= 2;  // ENOSPC: the last pages go in smaller pieces
        }
        ::close(fd);
        return total;
    }

private:
    TempDir dir_{"mxbridge-disk"};
    bool mounted_ = false;
};

// About 40 KB of message text per transaction, unique per call.
std::string bigTransaction(int n) {
    std::string text(40 * 1024, 'a' + static_cast<char>(n % 26));
    return txnBody({event("$e" + std::to_string(n), "!room" + std::to_string(n % 7), text)});
}

// Submits until Accepted, as the homeserver retries; returns the refusals on the way.
int submitUntilAccepted(JournalRig& rig, int n, int maxAttempts = 20) {
    int refused = 0;
    for (int attempt = 0; attempt < maxAttempts; ++attempt) {
        auto outcome = rig.submit("t" + std::to_string(n), bigTransaction(n))->wait(15000ms);
        REQUIRE(outcome.has_value());
        if (*outcome == SubmitOutcome::Accepted) return refused;
        ++refused;
    }
    FAIL("transaction " << n << " was refused " << maxAttempts << " times");
    return refused;
}

// Runs `f` with stderr sent to a file; returns what was written.
std::string captureStderr(const std::function<void()>& f) {
    TempDir dir;
    std::string path = (dir / "stderr").string();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int saved = ::dup(STDERR_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    f();
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

int linesWith(const std::string& text, const std::string& word) {
    int n = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) n += line.find(word) != std::string::npos;
    return n;
}

}  // namespace

TEST_CASE("with the database on a full disk, freeing the space that filled it lets transactions be accepted again") {
    SmallDisk disk(24);
    REQUIRE(disk.mounted());
    BridgeHealth health;
    JournalRig rig(disk / "j.db", {}, [](DispatchItem&) { return HandleResult{}; }, 2, &health);
    for (int n = 0; n < 40; ++n) REQUIRE(rig.submitAndWait("t" + std::to_string(n), bigTransaction(n)) == SubmitOutcome::Accepted);

    // Something else takes every byte left.
    size_t taken = disk.fillWith(disk / "filler");
    INFO("the filler took " << taken << " bytes");
    // The log may still have room of its own (an idle checkpoint lets it start over): go on
    // until a commit meets the full disk.
    int next = 40;
    bool refusedWhileFull = false;
    for (; next < 200 && !refusedWhileFull; ++next)
        refusedWhileFull = rig.submit("t" + std::to_string(next), bigTransaction(next))->wait(15000ms) ==
                           SubmitOutcome::Failed;
    REQUIRE(refusedWhileFull);
    CHECK(health.isFailing(HealthPart::Journal));
    CHECK(health.problem().find("journal cannot commit") != std::string::npos);

    // Freeing what it took is enough: the bridge takes more than that in the next minutes
    // (each body goes through the write-ahead log), so its log must make do with the room.
    std::filesystem::remove(disk / "filler");
    int refused = 0;
    for (int n = next - 1; n < next + 660; ++n) refused += submitUntilAccepted(rig, n);
    CHECK(refused <= 2);  // the commit that finds the disk full again may be refused once
    CHECK_FALSE(health.isFailing(HealthPart::Journal));
    CHECK(health.problem().empty());
}

TEST_CASE("a full disk with nothing arriving is logged once, not at every retry of the commit") {
    SmallDisk disk(16);
    REQUIRE(disk.mounted());
    JournalRig rig(disk / "j.db");  // items are completed by hand below
    REQUIRE(rig.submitAndWait("t1", bigTransaction(1)) == SubmitOutcome::Accepted);
    REQUIRE(rig.waitDispatched(1));
    disk.fillWith(disk / "filler");
    std::string log = captureStderr([&] {
        // Its done mark cannot be committed: the writer retries it with nothing else to do.
        rig.journal().complete({completionOf(rig.dispatched()[0])});
        std::this_thread::sleep_for(3000ms);
    });
    INFO("log:\n" << log);
    CHECK(linesWith(log, "commit") >= 1);  // the first failure is said at once
    CHECK(linesWith(log, "commit") <= 2);  // then in a summary every 30 s, not every 200 ms
    std::filesystem::remove(disk / "filler");
}

int main(int argc, char** argv) {
    {
        SmallDisk probe(1);
        if (!probe.mounted()) mxbridge::test::skipTest("mounting a tmpfs needs root (CAP_SYS_ADMIN)");
    }
    LogConfig::setDefaultLevel(LogLevel::Warn);
    doctest::Context context(argc, argv);
    return context.run();
}
