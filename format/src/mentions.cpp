// Mentions: collecting pills for m.mentions, and turning pills into names and names into pills.
#include "mxbridge/format/mentions.h"

#include <algorithm>

#include "mxbridge/format/html_reader.h"
#include "mxbridge/format/html_writer.h"

namespace mxbridge::format {

namespace {

bool isUserPill(const Link& link) {
    return link.matrix && link.matrix->kind == MatrixLinkKind::User;
}

void appendJsonString(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        auto b = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (b < 0x20) {
            out += "\\u00";
            out += kHex[b >> 4];
            out += kHex[b & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
}

class MentionCollector : public HtmlVisitor {
public:
    void beginLink(const Link& link) override {
        if (isUserPill(link)) mentions.addUser(link.matrix->id);
    }
    Mentions mentions;
};

// Writes a user pill's name instead of the pill where `nameFor` knows one.
class PillReplacer : public HtmlWriter {
public:
    explicit PillReplacer(const std::function<std::optional<std::string>(const std::string&)>& nameFor)
        : nameFor_(nameFor) {}

    void beginLink(const Link& link) override {
        if (replacing_ > 0) {
            ++replacing_;
            return;
        }
        if (isUserPill(link)) {
            if (auto name = nameFor_(link.matrix->id)) {
                HtmlWriter::text(*name);
                replacing_ = 1;
                return;
            }
        }
        HtmlWriter::beginLink(link);
    }
    void endLink(const Link& link) override {
        if (replacing_ > 0) {
            --replacing_;
            return;
        }
        HtmlWriter::endLink(link);
    }
    // The pill's own text is what the name replaces.
    void text(std::string_view text) override {
        if (replacing_ == 0) HtmlWriter::text(text);
    }
    void image(const Image& image) override {
        if (replacing_ == 0) HtmlWriter::image(image);
    }

private:
    const std::function<std::optional<std::string>(const std::string&)>& nameFor_;
    int replacing_ = 0;  // links open inside a replaced pill, itself included
};

// Turns the names `findNames` reports in plain text (not in links or code) into pills.
class NameLinker : public HtmlWriter {
public:
    explicit NameLinker(const std::function<std::vector<NameMatch>(std::string_view)>& findNames)
        : findNames_(findNames) {}

    void beginLink(const Link& link) override {
        ++links_;
        HtmlWriter::beginLink(link);
    }
    void endLink(const Link& link) override {
        --links_;
        HtmlWriter::endLink(link);
    }
    void beginStyle(Style style) override {
        if (style == Style::Code) ++code_;
        HtmlWriter::beginStyle(style);
    }
    void endStyle(Style style) override {
        if (style == Style::Code) --code_;
        HtmlWriter::endStyle(style);
    }
    void beginCodeBlock(const CodeBlock& block) override {
        ++code_;
        HtmlWriter::beginCodeBlock(block);
    }
    void endCodeBlock(const CodeBlock& block) override {
        --code_;
        HtmlWriter::endCodeBlock(block);
    }

    void text(std::string_view text) override {
        if (links_ > 0 || code_ > 0) return HtmlWriter::text(text);
        std::vector<NameMatch> matches = findNames_(text);
        std::stable_sort(matches.begin(), matches.end(),
                         [](const NameMatch& a, const NameMatch& b) { return a.offset < b.offset; });
        std::size_t done = 0;
        for (const NameMatch& m : matches) {
            // A finder's overlapping or out-of-range matches are skipped, never trusted.
            if (m.offset < done || m.length == 0 || m.offset > text.size() ||
                m.length > text.size() - m.offset || m.userId.empty())
                continue;
            HtmlWriter::text(text.substr(done, m.offset - done));
            pill(m.userId, text.substr(m.offset, m.length));
            done = m.offset + m.length;
        }
        HtmlWriter::text(text.substr(done));
    }

private:
    const std::function<std::vector<NameMatch>(std::string_view)>& findNames_;
    int links_ = 0;
    int code_ = 0;
};

}  // namespace

void Mentions::addUser(std::string_view userId) {
    if (userId.empty()) return;
    if (std::find(userIds_.begin(), userIds_.end(), userId) == userIds_.end())
        userIds_.emplace_back(userId);
}

void Mentions::removeUser(std::string_view userId) {
    userIds_.erase(std::remove(userIds_.begin(), userIds_.end(), userId), userIds_.end());
}

std::string Mentions::toJson() const {
    std::string out = "{";
    if (!userIds_.empty()) {
        out += "\"user_ids\":[";
        for (std::size_t i = 0; i < userIds_.size(); ++i) {
            if (i > 0) out += ',';
            appendJsonString(out, userIds_[i]);
        }
        out += ']';
    }
    if (room_) out += userIds_.empty() ? "\"room\":true" : ",\"room\":true";
    out += '}';
    return out;
}

Mentions mentionsInHtml(std::string_view html) {
    MentionCollector collector;
    readHtml(html, collector);
    return collector.mentions;
}

std::string replacePills(std::string_view html,
                         const std::function<std::optional<std::string>(const std::string&)>& nameFor) {
    PillReplacer writer(nameFor);
    readHtml(html, writer);
    return writer.finish();
}

std::string linkNames(std::string_view html,
                      const std::function<std::vector<NameMatch>(std::string_view)>& findNames) {
    NameLinker writer(findNames);
    readHtml(html, writer);
    return writer.finish();
}

}  // namespace mxbridge::format
