#include "login_fields.h"

#include <algorithm>
#include <cctype>

namespace mxbridge::purple {

namespace {

const std::string kUsername = "username";
const std::string kPassword = "password";
const std::string kSplitPrefix = "split_";
const std::string kOptionPrefix = "option_";

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

std::string optionLabel(const wire::ProtocolOption& option) {
    std::string label = option.label.empty() ? option.key : option.label;
    switch (option.kind) {
        case wire::OptionKind::Boolean: label += " (yes or no)"; break;
        case wire::OptionKind::Integer: label += " (a number)"; break;
        case wire::OptionKind::Choice: {
            label += " (one of:";
            for (std::size_t i = 0; i < option.choices.size(); ++i)
                label += (i ? ", " : " ") + option.choices[i].value + " = " + option.choices[i].label;
            label += ")";
            break;
        }
        case wire::OptionKind::String: break;
    }
    return label;
}

LoginField::Kind fieldKind(const wire::ProtocolOption& option) {
    if (option.masked) return LoginField::Kind::Secret;
    if (option.kind == wire::OptionKind::Integer) return LoginField::Kind::Number;
    return LoginField::Kind::Text;
}

std::string boolText(const std::string& value) {
    if (value == "true") return "yes";
    if (value == "false") return "no";
    return value;
}

wire::Value typedAnswer(const wire::ProtocolOption& option, const std::string& answer) {
    std::string label = option.label.empty() ? option.key : option.label;
    switch (option.kind) {
        case wire::OptionKind::Boolean: {
            std::string a = lower(answer);
            if (a == "yes" || a == "true" || a == "on" || a == "y") return wire::Value(true);
            if (a == "no" || a == "false" || a == "off" || a == "n") return wire::Value(false);
            throw LoginAnswerError(label + ": answer yes or no, not '" + answer + "'");
        }
        case wire::OptionKind::Integer: {
            if (answer.empty() || answer.size() > 9 ||
                !std::all_of(answer.begin(), answer.end(), [](unsigned char c) { return std::isdigit(c); }))
                throw LoginAnswerError(label + ": '" + answer + "' is not a number");
            return wire::Value(static_cast<std::int64_t>(std::stol(answer)));
        }
        case wire::OptionKind::Choice: {
            for (const auto& choice : option.choices)
                if (choice.value == answer || lower(choice.label) == lower(answer)) return wire::Value(choice.value);
            throw LoginAnswerError(label + ": '" + answer + "' is none of the choices");
        }
        case wire::OptionKind::String: break;
    }
    return wire::Value(answer);
}

}  // namespace

std::string networkOf(const std::string& protocolId) {
    return protocolId.rfind("prpl-", 0) == 0 ? protocolId.substr(5) : protocolId;
}

std::vector<LoginField> loginFieldsFor(const wire::ProtocolInfo& protocol) {
    std::vector<LoginField> fields;
    fields.push_back(LoginField{.id = kUsername,
                                .label = protocol.name + " username" +
                                         (protocol.userSplits.empty() ? "" : " (without the " + protocol.userSplits[0].label + ")"),
                                .kind = LoginField::Kind::Text,
                                .required = true,
                                .defaultValue = {}});
    for (std::size_t i = 0; i < protocol.userSplits.size(); ++i) {
        const auto& split = protocol.userSplits[i];
        // The first split (an XMPP domain, an IRC server) names where the account lives;
        // later ones (an XMPP resource) may be left out.
        fields.push_back(LoginField{.id = kSplitPrefix + std::to_string(i),
                                    .label = split.label,
                                    .kind = LoginField::Kind::Server,
                                    .required = i == 0 && split.defaultValue.empty(),
                                    .defaultValue = split.defaultValue});
    }
    if (protocol.password != wire::PasswordUse::None)
        fields.push_back(LoginField{.id = kPassword,
                                    .label = "Password",
                                    .kind = LoginField::Kind::Secret,
                                    .required = protocol.password == wire::PasswordUse::Required,
                                    .defaultValue = {}});
    for (const auto& option : protocol.options)
        fields.push_back(LoginField{.id = kOptionPrefix + option.key,
                                    .label = optionLabel(option),
                                    .kind = fieldKind(option),
                                    .required = false,
                                    .defaultValue = option.kind == wire::OptionKind::Boolean
                                                        ? boolText(option.defaultValue)
                                                        : option.defaultValue});
    return fields;
}

AccountSpec accountFromAnswers(const wire::ProtocolInfo& protocol, const LoginInput& input) {
    AccountSpec spec;
    spec.username = input.value(kUsername);
    if (spec.username.empty()) throw LoginAnswerError("the username is missing");
    for (std::size_t i = 0; i < protocol.userSplits.size(); ++i) {
        const auto& split = protocol.userSplits[i];
        std::string part = input.value(kSplitPrefix + std::to_string(i), split.defaultValue);
        if (part.empty()) {
            if (i == 0) throw LoginAnswerError(split.label + " is missing");
            continue;
        }
        if (spec.username.find(split.separator) != std::string::npos && i == 0)
            throw LoginAnswerError("give the username without '" + split.separator + split.label + "': it is asked apart");
        spec.username += split.separator + part;
    }
    for (const auto& option : protocol.options) {
        std::string id = kOptionPrefix + option.key;
        std::string answer;
        if (const Secret<std::string>* secret = input.secret(id))
            answer = secret->reveal();
        else
            answer = input.value(id);
        if (answer.empty()) continue;
        (option.masked ? spec.secretSettings : spec.settings).set(option.key, typedAnswer(option, answer));
    }
    return spec;
}

nlohmann::json settingsToJson(const wire::Record& settings) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& field : settings.fields()) {
        if (const bool* b = field.value.asBoolean())
            out[field.key] = *b;
        else if (const std::int64_t* i = field.value.asInteger())
            out[field.key] = *i;
        else if (const std::string* s = field.value.asString())
            out[field.key] = *s;
    }
    return out;
}

wire::Record settingsFromJson(const nlohmann::json& json) {
    wire::Record settings;
    if (!json.is_object()) return settings;
    for (const auto& [key, value] : json.items()) {
        if (!wire::isValidName(key)) continue;
        if (value.is_boolean())
            settings.set(key, value.get<bool>());
        else if (value.is_number_integer())
            settings.set(key, value.get<std::int64_t>());
        else if (value.is_string())
            settings.set(key, value.get<std::string>());
    }
    return settings;
}

}  // namespace mxbridge::purple
