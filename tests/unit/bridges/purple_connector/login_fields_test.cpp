// !login for a libpurple protocol: the questions come from what the plugin declares, and the
// answers become the username and typed settings the host's `login` takes.
#include <doctest/doctest.h>

#include "login_fields.h"

using namespace mxbridge;
using namespace mxbridge::purple;

namespace {

// What prpl-jabber declares (a part of it), as the host lists it.
wire::ProtocolInfo jabber() {
    return wire::ProtocolInfo{
        .id = "prpl-jabber",
        .name = "XMPP",
        .userSplits = {{.label = "Domain", .defaultValue = "", .separator = "@", .reverse = true},
                       {.label = "Resource", .defaultValue = "", .separator = "/", .reverse = false}},
        .password = wire::PasswordUse::Optional,
        .options = {{.key = "connection_security", .label = "Connection security", .kind = wire::OptionKind::Choice,
                     .defaultValue = "require_starttls", .masked = false,
                     .choices = {{.label = "Require encryption", .value = "require_starttls"},
                                 {.label = "Use encryption if available", .value = "opportunistic_tls"}}},
                    {.key = "auth_plain_in_clear", .label = "Allow plaintext auth over unencrypted streams",
                     .kind = wire::OptionKind::Boolean, .defaultValue = "false", .masked = false, .choices = {}},
                    {.key = "port", .label = "Connect port", .kind = wire::OptionKind::Integer, .defaultValue = "5222",
                     .masked = false, .choices = {}},
                    {.key = "connect_server", .label = "Connect server", .kind = wire::OptionKind::String,
                     .defaultValue = "", .masked = false, .choices = {}},
                    {.key = "nickserv_password", .label = "Services password", .kind = wire::OptionKind::String,
                     .defaultValue = "", .masked = true, .choices = {}}}};
}

const LoginField& field(const std::vector<LoginField>& fields, const std::string& id) {
    for (const auto& f : fields)
        if (f.id == id) return f;
    FAIL("no field " << id);
    throw;
}

}  // namespace

TEST_CASE("the network of a protocol is its plugin id without prpl-") {
    CHECK(networkOf("prpl-jabber") == "jabber");
    CHECK(networkOf("prpl-eionrobb-discord") == "eionrobb-discord");
    CHECK(networkOf("sipe") == "sipe");
}

TEST_CASE("the questions follow what the plugin declares, in its order") {
    auto fields = loginFieldsFor(jabber());
    REQUIRE(fields.size() == 1 + 2 + 1 + 5);
    CHECK(fields[0].id == "username");
    CHECK(fields[0].required);
    CHECK(fields[1].label == "Domain");
    CHECK(fields[1].required);  // where the account lives
    CHECK(fields[2].label == "Resource");
    CHECK_FALSE(fields[2].required);
    const LoginField& password = field(fields, "password");
    CHECK(password.kind == LoginField::Kind::Secret);
    CHECK_FALSE(password.required);  // the plugin says optional
    const LoginField& security = field(fields, "option_connection_security");
    CHECK(security.label.find("opportunistic_tls = Use encryption if available") != std::string::npos);
    CHECK(security.defaultValue == "require_starttls");
    CHECK_FALSE(security.required);
    CHECK(field(fields, "option_auth_plain_in_clear").defaultValue == "no");
    CHECK(field(fields, "option_port").kind == LoginField::Kind::Number);
    CHECK(field(fields, "option_nickserv_password").kind == LoginField::Kind::Secret);
}

TEST_CASE("a protocol without passwords asks for none") {
    wire::ProtocolInfo bonjour{.id = "prpl-bonjour", .name = "Bonjour", .userSplits = {},
                               .password = wire::PasswordUse::None, .options = {}};
    auto fields = loginFieldsFor(bonjour);
    REQUIRE(fields.size() == 1);
    CHECK(fields[0].id == "username");
}

TEST_CASE("answers become the username and typed settings; masked ones apart") {
    LoginInput input;
    input.values = {{"username", "alice"},
                    {"split_0", "localhost"},
                    {"split_1", "bridge"},
                    {"option_connection_security", "Use encryption if available"},
                    {"option_auth_plain_in_clear", "yes"},
                    {"option_port", "5333"},
                    {"option_connect_server", ""}};
    input.secrets = {{"option_nickserv_password", Secret<std::string>("s3")}};
    AccountSpec spec = accountFromAnswers(jabber(), input);
    CHECK(spec.username == "alice@localhost/bridge");
    CHECK(spec.settings.string("connection_security") == "opportunistic_tls");
    CHECK(spec.settings.boolean("auth_plain_in_clear"));
    CHECK(spec.settings.integer("port") == 5333);
    CHECK_FALSE(spec.settings.has("connect_server"));  // left empty: the plugin's default
    CHECK_FALSE(spec.settings.has("nickserv_password"));
    CHECK(spec.secretSettings.string("nickserv_password") == "s3");

    // Stored as JSON with the login and read back at start (JSON sorts the keys).
    wire::Record settings = settingsFromJson(settingsToJson(spec.settings));
    CHECK(settings.fields().size() == spec.settings.fields().size());
    for (const auto& f : spec.settings.fields()) CHECK(*settings.find(f.key) == f.value);
}

TEST_CASE("answers that do not fit are refused with the field's name") {
    LoginInput input;
    input.values = {{"username", "alice"}, {"split_0", "localhost"}, {"option_port", "52x"}};
    CHECK_THROWS_WITH_AS(accountFromAnswers(jabber(), input), "Connect port: '52x' is not a number", LoginAnswerError);
    input.values["option_port"] = "5222";
    input.values["option_auth_plain_in_clear"] = "perhaps";
    CHECK_THROWS_WITH_AS(accountFromAnswers(jabber(), input),
                         "Allow plaintext auth over unencrypted streams: answer yes or no, not 'perhaps'",
                         LoginAnswerError);
    input.values.erase("option_auth_plain_in_clear");
    input.values["option_connection_security"] = "carrier pigeon";
    CHECK_THROWS_AS(accountFromAnswers(jabber(), input), LoginAnswerError);
    input.values.erase("option_connection_security");
    input.values["split_0"] = "";
    CHECK_THROWS_WITH_AS(accountFromAnswers(jabber(), input), "Domain is missing", LoginAnswerError);
    input.values["split_0"] = "localhost";
    input.values["username"] = "alice@localhost";
    CHECK_THROWS_AS(accountFromAnswers(jabber(), input), LoginAnswerError);
}
