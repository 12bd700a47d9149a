// JIDs (RFC 7622): [localpart@]domainpart[/resourcepart], each part at most 1023 bytes, and
// XEP-0106 escaping, which lets a localpart carry the characters JIDs forbid there (a Matrix
// id's ':' and '@', say) without two names ever sharing one JID.
//
// Normalisation covers ASCII only: letters in the localpart and domainpart are lowercased
// (RFC 7622's case mapping), a domain's trailing dot is dropped. Non-ASCII characters are kept
// as sent (valid UTF-8 required); full PRECIS and IDNA mapping is not done.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::xmpp {

class Jid {
public:
    static constexpr std::size_t kMaxPartBytes = 1023;

    // Nullopt (with the reason in `why` when given) for anything RFC 7622 would refuse: an
    // empty or oversized part, '@' without a localpart, '/' without a resource, characters a
    // localpart may not hold (space " & ' / : < > @), controls, invalid UTF-8.
    static std::optional<Jid> parse(std::string_view text, std::string* why = nullptr);
    // The same checks on parts given apart; empty `local`/`resource` means none.
    static std::optional<Jid> fromParts(std::string_view local, std::string_view domain,
                                        std::string_view resource = {}, std::string* why = nullptr);

    const std::string& local() const { return local_; }
    const std::string& domain() const { return domain_; }
    const std::string& resource() const { return resource_; }
    bool isBare() const { return resource_.empty(); }
    bool isFull() const { return !resource_.empty(); }

    // This JID without its resource.
    Jid bare() const;
    // This JID's bare part with another resource; nullopt when `resource` is not a valid one.
    std::optional<Jid> withResource(std::string_view resource) const;
    // local@domain/resource, the parts that are present.
    std::string str() const;
    std::string bareStr() const { return bare().str(); }

    friend bool operator==(const Jid&, const Jid&) = default;

private:
    std::string local_;
    std::string domain_;
    std::string resource_;
};

// XEP-0106: space " & ' / : < > @ become \20 \22 \26 \27 \2f \3a \3c \3e \40, and a backslash
// becomes \5c where it would otherwise start one of these sequences, so unescaping gives back
// exactly the input. Nullopt for an empty input, one starting or ending with a space (XEP-0106
// forbids \20 at either end), or one whose escaped form is not a valid localpart.
std::optional<std::string> escapeLocalpart(std::string_view raw);
// The inverse: each of the ten sequences becomes its character; any other backslash stays.
std::string unescapeLocalpart(std::string_view escaped);

}  // namespace mxbridge::xmpp
