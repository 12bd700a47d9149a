// A fast, stable 64-bit hash (MurmurHash64A's construction). Stable across builds and
// platforms of the same endianness, because these values are persisted in the journal;
// std::hash promises neither.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace mxbridge::detail {

inline uint64_t hash64(std::string_view data, uint64_t seed = 0x9e3779b97f4a7c15ULL) {
    constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
    constexpr int r = 47;
    uint64_t h = seed ^ (data.size() * m);
    const char* p = data.data();
    size_t n = data.size() / 8;
    for (size_t i = 0; i < n; ++i, p += 8) {
        uint64_t k;
        std::memcpy(&k, p, 8);
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t rest = data.size() & 7;
    if (rest) {
        uint64_t k = 0;
        std::memcpy(&k, p, rest);
        h ^= k;
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

inline uint64_t hashCombine(uint64_t a, uint64_t b) {
    return hash64(std::string_view(reinterpret_cast<const char*>(&b), 8), a);
}

}  // namespace mxbridge::detail
