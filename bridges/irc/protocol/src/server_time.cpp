// ISO 8601 UTC timestamps from the server-time tag.
#include "mxbridge/irc/server_time.h"

namespace mxbridge::irc {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil-days method).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    auto yoe = static_cast<unsigned>(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool readDigits(std::string_view s, std::size_t pos, std::size_t count, unsigned& value) {
    if (pos + count > s.size()) return false;
    value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return true;
}

}  // namespace

std::optional<std::int64_t> parseServerTime(std::string_view s) {
    unsigned year, month, day, hour, minute, second;
    if (s.size() < 20 || !readDigits(s, 0, 4, year) || s[4] != '-' || !readDigits(s, 5, 2, month) ||
        s[7] != '-' || !readDigits(s, 8, 2, day) || s[10] != 'T' || !readDigits(s, 11, 2, hour) ||
        s[13] != ':' || !readDigits(s, 14, 2, minute) || s[16] != ':' ||
        !readDigits(s, 17, 2, second))
        return std::nullopt;
    static constexpr unsigned kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > kDaysInMonth[month - 1] || hour > 23 ||
        minute > 59 || second > 60)
        return std::nullopt;
    std::size_t pos = 19;
    unsigned millis = 0;
    if (s[pos] == '.') {
        ++pos;
        std::size_t digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3) millis = millis * 10 + static_cast<unsigned>(s[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (std::size_t i = digits; i < 3; ++i) millis *= 10;
    }
    if (pos + 1 != s.size() || s[pos] != 'Z') return std::nullopt;
    std::int64_t days = daysFromCivil(year, month, day);
    std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
    return secs * 1000 + millis;
}

std::optional<std::int64_t> serverTimeMs(const IrcMessage& msg) {
    auto value = msg.tag("time");
    if (!value) return std::nullopt;
    return parseServerTime(*value);
}

}  // namespace mxbridge::irc
