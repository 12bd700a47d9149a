#include "replay_driver.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace mxbridge::fuzz {

namespace {

using Input = std::vector<std::uint8_t>;

Input readFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Input(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void mutate(Input& in, const std::vector<Input>& seeds, const std::vector<Input>& tokens,
            std::mt19937_64& rng) {
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
                if (tokens.empty()) break;
                const Input& tok = tokens[pick(tokens.size())];
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

// libFuzzer's dictionary format: one "quoted" entry per line, optionally name=, escapes \\,
// \" and \xNN; lines starting with # are comments. Nullopt (with a message) when malformed.
std::optional<std::vector<Input>> readDict(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) {
        std::fprintf(stderr, "cannot read dictionary %s\n", file.c_str());
        return std::nullopt;
    }
    std::vector<Input> tokens;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        std::size_t open = line.find_first_not_of(" \t");
        if (open == std::string::npos || line[open] == '#') continue;
        open = line.find('"');
        bool ok = open != std::string::npos && line.size() >= open + 2 && line.back() == '"';
        Input token;
        for (std::size_t i = open + 1; ok && i + 1 < line.size(); ++i) {
            char c = line[i];
            if (c != '\\') {
                token.push_back(static_cast<std::uint8_t>(c));
            } else if (i + 2 < line.size() && (line[i + 1] == '\\' || line[i + 1] == '"')) {
                token.push_back(static_cast<std::uint8_t>(line[++i]));
            } else if (i + 4 < line.size() && line[i + 1] == 'x' &&
                       std::isxdigit(static_cast<unsigned char>(line[i + 2])) &&
                       std::isxdigit(static_cast<unsigned char>(line[i + 3]))) {
                token.push_back(
                    static_cast<std::uint8_t>(std::stoi(line.substr(i + 2, 2), nullptr, 16)));
                i += 3;
            } else {
                ok = false;
            }
        }
        if (!ok) {
            std::fprintf(stderr, "%s:%d: expected \"token\" with \\\\, \\\" or \\xNN escapes\n",
                         file.c_str(), number);
            return std::nullopt;
        }
        tokens.push_back(std::move(token));
    }
    return tokens;
}

// Sorted, so the mutations a fixed seed produces do not depend on directory order.
std::vector<Input> readSeeds(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(dir))
        for (const auto& entry : std::filesystem::directory_iterator(dir))
            if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    std::vector<Input> seeds;
    for (const auto& file : files) seeds.push_back(readFile(file));
    return seeds;
}

}  // namespace

int runReplay(int argc, char** argv, std::span<const ReplayTarget> targets) {
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

    for (const auto& target : targets) {
        std::filesystem::path dir = corpus / target.name;
        std::vector<Input> seeds = readSeeds(dir);
        if (seeds.empty()) {
            std::fprintf(stderr, "no seed corpus in %s\n", dir.c_str());
            return 1;
        }
        auto tokens = readDict(std::filesystem::path(MXBRIDGE_FUZZ_DICT_DIR) /
                               (std::string(target.dict) + ".dict"));
        if (!tokens) return 1;
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
            mutate(in, seeds, *tokens, rng);
            target.run(in.data(), in.size());
        }
        std::printf("%s: %zu seeds + %ld mutated inputs passed\n", target.name, seeds.size(),
                    iterations);
    }
    return 0;
}

}  // namespace mxbridge::fuzz
