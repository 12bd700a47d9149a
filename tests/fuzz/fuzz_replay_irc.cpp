// Runs the IRC fuzz entry points without libFuzzer: every file of the seed corpus, then
// mutations of it from a fixed seed, so g++ builds and CI exercise the same properties
// deterministically. Usage: fuzz_replay_irc [--iterations N] [--seed S] [corpus-dir]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "irc_fuzz_targets.h"

namespace {

using Input = std::vector<std::uint8_t>;
using EntryPoint = void (*)(const std::uint8_t*, std::size_t);

struct Target {
    const char* name;
    EntryPoint run;
};

// Byte strings that reach the interesting branches far sooner than random bytes do.
using namespace std::string_view_literals;
const std::string_view kTokens[] = {
    "\r\n",
    "\r",
    "\n",
    "\0"sv,
    " ",
    ":",
    "@",
    ";",
    "=",
    "\\",
    "\\s",
    "\\:",
    "!",
    "@host",
    "PRIVMSG",
    "CAP",
    " LS * :",
    "005",
    "AUTHENTICATE",
    "\x01"
    "ACTION ",
    "\x01",
    "\x02",
    "\x03",
    "\x03"
    "04,",
    "\x03"
    "99,",
    "\x04",
    "\x04"
    "FF00AA",
    "\x0F",
    "\x11",
    "\x16",
    "\x1D",
    "\x1E",
    "\x1F",
    "<b>",
    "</b>",
    "<i>",
    "<a href=\"",
    "\">",
    "</a>",
    "<br>",
    "<p>",
    "</p>",
    "<pre>",
    "<blockquote>",
    "<ul><li>",
    "<ol start=\"9\">",
    "<mx-reply>",
    "</mx-reply>",
    "<font data-mx-color=\"#ff0000\">",
    "</font>",
    "<!--",
    "-->",
    "&amp;",
    "&#",
    "&#x1F389;",
    "&nbsp;",
    "\xC3\xA9",
    "\xE2\x82\xAC",
    "\xF0\x9F\x8E\x89",
    "\xFF",
    "\xC3",
    "\xED\xA0\x80",
    "time=2020-01-01T00:00:00.000Z",
};

Input readFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Input(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void mutate(Input& in, const std::vector<Input>& seeds, std::mt19937_64& rng) {
    auto pick = [&rng](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
    int rounds = 1 + static_cast<int>(rng() % 8);
    for (int r = 0; r < rounds; ++r) {
        switch (rng() % 8) {
            case 0:  // flip a bit
                if (!in.empty())
                    in[pick(in.size())] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
                break;
            case 1:  // random byte
                in.insert(in.begin() + static_cast<long>(pick(in.size() + 1)),
                          static_cast<std::uint8_t>(rng()));
                break;
            case 2:
            case 3: {  // dictionary token
                std::string_view tok = kTokens[pick(std::size(kTokens))];
                in.insert(in.begin() + static_cast<long>(pick(in.size() + 1)), tok.begin(),
                          tok.end());
                break;
            }
            case 4:  // delete a range
                if (!in.empty()) {
                    std::size_t at = pick(in.size());
                    std::size_t len = 1 + pick(std::min<std::size_t>(16, in.size() - at));
                    in.erase(in.begin() + static_cast<long>(at),
                             in.begin() + static_cast<long>(std::min(in.size(), at + len)));
                }
                break;
            case 5:  // duplicate a range, which grows inputs towards the length limits
                if (!in.empty() && in.size() < 20000) {
                    std::size_t at = pick(in.size());
                    std::size_t len = 1 + pick(in.size() - at);
                    Input chunk(in.begin() + static_cast<long>(at),
                                in.begin() + static_cast<long>(at + len));
                    int times = 1 + static_cast<int>(rng() % 4);
                    for (int t = 0; t < times; ++t)
                        in.insert(in.begin() + static_cast<long>(pick(in.size() + 1)),
                                  chunk.begin(), chunk.end());
                }
                break;
            case 6:  // splice in another seed
                if (!seeds.empty()) {
                    const Input& other = seeds[pick(seeds.size())];
                    in.insert(in.begin() + static_cast<long>(pick(in.size() + 1)), other.begin(),
                              other.end());
                }
                break;
            default:  // truncate
                if (!in.empty()) in.resize(pick(in.size()));
        }
    }
    if (in.size() > 65536) in.resize(65536);
}

}  // namespace

int main(int argc, char** argv) {
    long iterations = 5000;
    std::uint64_t seed = 0x6D78627269646765ull;  // fixed: failures reproduce run to run
    std::filesystem::path corpus = MXBRIDGE_FUZZ_CORPUS_DIR;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--iterations" && i + 1 < argc)
            iterations = std::strtol(argv[++i], nullptr, 10);
        else if (arg == "--seed" && i + 1 < argc)
            seed = std::strtoull(argv[++i], nullptr, 0);
        else
            corpus = arg;
    }

    const Target targets[] = {
        {"irc_message", mxbridge::irc::fuzz::fuzzIrcMessage},
        {"irc_formatting", mxbridge::irc::fuzz::fuzzIrcFormatting},
    };
    for (const auto& target : targets) {
        std::vector<Input> seeds;
        std::filesystem::path dir = corpus / target.name;
        if (std::filesystem::is_directory(dir))
            for (const auto& entry : std::filesystem::directory_iterator(dir))
                if (entry.is_regular_file()) seeds.push_back(readFile(entry.path()));
        if (seeds.empty()) {
            std::fprintf(stderr, "no seed corpus in %s\n", dir.c_str());
            return 1;
        }
        for (const auto& s : seeds) target.run(s.data(), s.size());
        target.run(nullptr, 0);

        std::mt19937_64 rng(seed);
        for (long i = 0; i < iterations; ++i) {
            Input in;
            if (rng() % 8 != 0)
                in = seeds[rng() % seeds.size()];
            else
                for (std::size_t n = rng() % 512; n > 0; --n)
                    in.push_back(static_cast<std::uint8_t>(rng()));
            mutate(in, seeds, rng);
            target.run(in.data(), in.size());
        }
        std::printf("%s: %zu seeds + %ld mutated inputs passed\n", target.name, seeds.size(),
                    iterations);
    }
    return 0;
}
