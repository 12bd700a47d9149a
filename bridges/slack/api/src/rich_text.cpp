#include "mxbridge/slack/rich_text.h"

#include <vector>

#include "mxbridge/format/html_reader.h"
#include "mxbridge/format/html_writer.h"
#include "mxbridge/format/utf8.h"
#include "mxbridge/slack/message_text.h"

namespace mxbridge::slack {

namespace {

using format::HtmlWriter;

std::string field(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const nlohmann::json& elementsOf(const nlohmann::json& node) {
    static const nlohmann::json none = nlohmann::json::array();
    auto it = node.find("elements");
    return it != node.end() && it->is_array() ? *it : none;
}

// "1f44d-1f3fb" as UTF-8; empty when it is not hex code points.
std::string emojiFromUnicode(const std::string& codes) {
    std::string out;
    std::size_t start = 0;
    while (start <= codes.size()) {
        std::size_t dash = codes.find('-', start);
        std::string hex = codes.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
        if (hex.empty() || hex.size() > 6) return {};
        char32_t codepoint = 0;
        for (char c : hex) {
            int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                       : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
            if (digit < 0) return {};
            codepoint = codepoint * 16 + static_cast<char32_t>(digit);
        }
        format::appendUtf8(out, codepoint);
        if (dash == std::string::npos) break;
        start = dash + 1;
    }
    return out;
}

class RichTextRenderer {
public:
    explicit RichTextRenderer(const RichTextNames& names) : names_(names) {}

    bool formatted() const { return formatted_; }
    std::string finish() { return writer_.finish(); }

    void block(const nlohmann::json& node, int depth) {
        if (depth > 8 || !node.is_object()) return;  // Slack nests lists a few levels at most
        std::string type = field(node, "type");
        if (type == "rich_text") {
            for (const auto& child : elementsOf(node)) block(child, depth + 1);
        } else if (type == "rich_text_section") {
            inlines(node);
        } else if (type == "rich_text_preformatted") {
            formatted_ = true;
            writer_.beginCodeBlock({});
            inlines(node, /*plain=*/true);
            writer_.endCodeBlock({});
        } else if (type == "rich_text_quote") {
            formatted_ = true;
            writer_.beginQuote({});
            inlines(node);
            writer_.endQuote({});
        } else if (type == "rich_text_list") {
            formatted_ = true;
            bool ordered = field(node, "style") == "ordered";
            writer_.beginList({.ordered = ordered, .start = 1, .depth = depth});
            long number = 1;
            for (const auto& item : elementsOf(node)) {
                writer_.beginListItem({.ordered = ordered, .number = number++, .depth = depth});
                block(item, depth + 1);
                writer_.endListItem({.ordered = ordered, .number = number - 1, .depth = depth});
            }
            writer_.endList({.ordered = ordered, .start = 1, .depth = depth});
        }
    }

private:
    void inlines(const nlohmann::json& node, bool plain = false) {
        for (const auto& element : elementsOf(node)) {
            if (!element.is_object()) continue;
            std::string type = field(element, "type");
            std::vector<format::Style> styles;
            if (!plain) {
                auto style = element.find("style");
                if (style != element.end() && style->is_object()) {
                    auto on = [&](const char* key) { return style->value(key, false); };
                    if (on("bold")) styles.push_back(format::Style::Bold);
                    if (on("italic")) styles.push_back(format::Style::Italic);
                    if (on("strike")) styles.push_back(format::Style::Strikethrough);
                    if (on("code")) styles.push_back(format::Style::Code);
                }
            }
            if (!styles.empty()) formatted_ = true;
            for (auto s : styles) writer_.beginStyle(s);
            inline_(type, element);
            for (auto it = styles.rbegin(); it != styles.rend(); ++it) writer_.endStyle(*it);
        }
    }

    void inline_(const std::string& type, const nlohmann::json& element) {
        if (type == "text") {
            writer_.text(field(element, "text"));
        } else if (type == "link") {
            std::string url = field(element, "url");
            std::string text = field(element, "text");
            formatted_ = true;
            writer_.beginLink({.href = url, .matrix = std::nullopt});
            writer_.text(text.empty() ? url : text);
            writer_.endLink({.href = url, .matrix = std::nullopt});
        } else if (type == "user") {
            std::string id = field(element, "user_id");
            auto pill = names_.userPill ? names_.userPill(id) : std::nullopt;
            if (pill) {
                formatted_ = true;
                writer_.pill(pill->first, pill->second);
            } else {
                writer_.text("@" + id);
            }
        } else if (type == "channel") {
            std::string id = field(element, "channel_id");
            std::string name = names_.channelName ? names_.channelName(id) : std::string();
            writer_.text("#" + (name.empty() ? id : name));
        } else if (type == "broadcast") {
            writer_.text("@" + field(element, "range"));
        } else if (type == "usergroup") {
            writer_.text("@" + field(element, "usergroup_id"));
        } else if (type == "emoji") {
            std::string emoji = emojiFromUnicode(field(element, "unicode"));
            writer_.text(emoji.empty() ? ":" + field(element, "name") + ":" : emoji);
        }
    }

    const RichTextNames& names_;
    HtmlWriter writer_;
    bool formatted_ = false;
};

// Matrix HTML as mrkdwn.
class MrkdwnWriter final : public format::HtmlVisitor {
public:
    explicit MrkdwnWriter(const SlackUserOfPill& slackUserOf) : slackUserOf_(slackUserOf) {}

    std::string finish() {
        while (!out_.empty() && out_.back() == '\n') out_.pop_back();
        return std::move(out_);
    }

    void text(std::string_view text) override {
        // \x01 marks a mention (see resolvePlaceholders): a sender's own never survives.
        std::string clean;
        for (char c : text)
            if (c != '\x01') clean.push_back(c);
        if (links_.empty()) return write(escapeForSlack(clean));
        links_.back().text += clean;
    }
    void lineBreak() override { newline(); }
    void horizontalRule() override {
        startLine();
        write("---");
        newline();
    }
    void image(const format::Image& image) override { text(image.alt.empty() ? image.title : image.alt); }

    void beginStyle(format::Style style) override { write(mark(style)); }
    void endStyle(format::Style style) override { write(mark(style)); }

    void beginLink(const format::Link& link) override { links_.push_back({link, {}}); }
    void endLink(const format::Link&) override {
        if (links_.empty()) return;
        OpenLink link = std::move(links_.back());
        links_.pop_back();
        if (link.link.matrix && link.link.matrix->kind == format::MatrixLinkKind::User) {
            auto slackUser = slackUserOf_ ? slackUserOf_(link.link.matrix->id) : std::nullopt;
            if (slackUser && links_.empty()) return write("\x01" + *slackUser);
            return text(link.text);
        }
        // Only the schemes Matrix allows: an href such as "!here" would be a channel-wide
        // ping on Slack. '|' would end the URL early, so it is percent-encoded.
        if (!format::isSafeLinkTarget(link.link.href)) return text(link.text);
        std::string label = escapeForSlack(link.text);
        std::string href;
        for (char c : escapeForSlack(link.link.href)) href += c == '|' ? std::string("%7C") : std::string(1, c);
        std::string written = label.empty() || label == href ? "<" + href + ">" : "<" + href + "|" + label + ">";
        if (links_.empty()) write(written);
        else links_.back().text += link.text;
    }

    void beginBlock(format::Block) override { startLine(); }
    void endBlock(format::Block) override { newline(); }
    void beginHeading(const format::Heading&) override {
        startLine();
        write("*");
    }
    void endHeading(const format::Heading&) override {
        write("*");
        newline();
    }
    void beginQuote(const format::Quote&) override {
        startLine();
        ++quotes_;
    }
    void endQuote(const format::Quote&) override {
        --quotes_;
        newline();
    }
    void beginCodeBlock(const format::CodeBlock&) override {
        startLine();
        write("```");
        ++codeBlocks_;
    }
    void endCodeBlock(const format::CodeBlock&) override {
        --codeBlocks_;
        if (!out_.empty() && out_.back() == '\n') out_.pop_back();
        write("```");
        newline();
    }
    void beginList(const format::List&) override { startLine(); }
    void endList(const format::List&) override { startLine(); }
    void beginListItem(const format::ListItem& item) override {
        startLine();
        write(std::string(static_cast<std::size_t>(std::max(0, item.depth - 1)) * 4, ' '));
        write(item.ordered ? std::to_string(item.number) + ". " : "• ");
    }
    void endListItem(const format::ListItem&) override { newline(); }

    std::string resolvePlaceholders(std::string text) const {
        // "\x01U123" -> "<@U123>": written after escaping so the brackets survive.
        std::string out;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] != '\x01') {
                out.push_back(text[i]);
                continue;
            }
            std::size_t end = i + 1;
            while (end < text.size() && ((text[end] >= 'A' && text[end] <= 'Z') || (text[end] >= '0' && text[end] <= '9')))
                ++end;
            out += "<@" + text.substr(i + 1, end - i - 1) + ">";
            i = end - 1;
        }
        return out;
    }

private:
    struct OpenLink {
        format::Link link;
        std::string text;
    };

    static std::string mark(format::Style style) {
        switch (style) {
            case format::Style::Bold: return "*";
            case format::Style::Italic: return "_";
            case format::Style::Strikethrough: return "~";
            case format::Style::Code: return "`";
            default: return "";
        }
    }

    void write(const std::string& text) {
        if (text.empty()) return;
        if (atLineStart_ && quotes_ > 0 && codeBlocks_ == 0) out_ += "> ";
        if (codeBlocks_ > 0 && atLineStart_ && !out_.empty() && out_.back() != '\n') out_ += '\n';
        atLineStart_ = false;
        for (char c : text) {
            out_.push_back(c);
            if (c == '\n' && quotes_ > 0 && codeBlocks_ == 0) out_ += "> ";
        }
    }
    void newline() {
        out_.push_back('\n');
        atLineStart_ = true;
    }
    void startLine() {
        if (!out_.empty() && out_.back() != '\n') newline();
        atLineStart_ = true;
    }

    const SlackUserOfPill& slackUserOf_;
    std::string out_;
    std::vector<OpenLink> links_;
    int quotes_ = 0;
    int codeBlocks_ = 0;
    bool atLineStart_ = true;
};

}  // namespace

std::optional<std::string> richTextToHtml(const nlohmann::json& blocks, const RichTextNames& names) {
    if (!blocks.is_array()) return std::nullopt;
    RichTextRenderer renderer(names);
    bool any = false;
    for (const auto& block : blocks) {
        if (!block.is_object() || field(block, "type") != "rich_text") continue;
        any = true;
        renderer.block(block, 0);
    }
    if (!any || !renderer.formatted()) return std::nullopt;
    return renderer.finish();
}

std::string htmlToMrkdwn(std::string_view html, const SlackUserOfPill& slackUserOf) {
    MrkdwnWriter writer(slackUserOf);
    format::readHtml(html, writer);
    return writer.resolvePlaceholders(writer.finish());
}

}  // namespace mxbridge::slack
