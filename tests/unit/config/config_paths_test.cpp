// Relative paths in the config are the config file's folder's, not the working directory's;
// Config::origins tells where each key was set, for problems found after loading.
#include <doctest/doctest.h>

#include <filesystem>

#include "mxbridge/config.h"
#include "test_files.h"

using namespace mxbridge;
using mxbridge::test::TempDir;

namespace {

const char* kWithPaths =
    "homeserver:\n"                                  // 1
    "  url: http://localhost:8008\n"                 // 2
    "  server_name: chat.test\n"                     // 3
    "appservice:\n"                                  // 4
    "  public_url: http://localhost:29300\n"         // 5
    "  registration_file: ./registration.yaml\n"     // 6
    "database:\n"                                    // 7
    "  path: data/mxbridge.db\n"                     // 8
    "bridge:\n"                                      // 9
    "  type: ./plugins/libmxbridge_x.so\n";          // 10

std::string beside(const std::string& configFile, const std::string& name) {
    return (std::filesystem::path(configFile).parent_path() / name).string();
}

}  // namespace

TEST_CASE("relative paths in the config are taken from the config file's folder, not the working directory") {
    TempDir dir;
    std::string file = dir.write("config.yaml", kWithPaths);
    Config c = loadConfig(file, {});
    // As written until resolved, so messages can quote the operator's own text.
    CHECK(c.appservice.registrationFile == "./registration.yaml");
    resolvePathsFromConfigFolder(c);
    CHECK(c.appservice.registrationFile == beside(file, "registration.yaml"));
    CHECK(c.database.path == beside(file, "data/mxbridge.db"));
    CHECK(c.bridge.type == beside(file, "plugins/libmxbridge_x.so"));

    // Absolute paths and names without a '/' (built-in bridges, dlopen's search) stay as they are.
    std::string text = kWithPaths;
    test::replaceAll(text, "./registration.yaml", "/etc/mxbridge/registration.yaml");
    test::replaceAll(text, "./plugins/libmxbridge_x.so", "irc");
    Config d = loadConfig(dir.write("other.yaml", text), {});
    resolvePathsFromConfigFolder(d);
    CHECK(d.appservice.registrationFile == "/etc/mxbridge/registration.yaml");
    CHECK(d.bridge.type == "irc");
}

TEST_CASE("a relative MXBRIDGE_*_FILE secret is read from the config file's folder") {
    TempDir dir;
    std::filesystem::create_directory(dir.file("secrets"));
    dir.write("secrets/as_token", "as-token-from-a-file\n");
    Config c = loadConfig(dir.write("config.yaml", kWithPaths),
                          {{"MXBRIDGE_APPSERVICE_AS_TOKEN_FILE", "secrets/as_token"}});
    CHECK(c.appservice.asToken.reveal() == "as-token-from-a-file");
    CHECK(c.origins.where("appservice.as_token") ==
          "env MXBRIDGE_APPSERVICE_AS_TOKEN_FILE (" + dir.file("secrets/as_token") + ")");
}

TEST_CASE("Config::origins names the line or variable that set a key, and holds no values") {
    TempDir dir;
    std::string file = dir.write("config.yaml", kWithPaths);
    Config c = loadConfig(file, {{"MXBRIDGE_APPSERVICE_HS_TOKEN", "hs-token-from-env"}});
    CHECK(c.origins.where("database.path") == file + ":8");
    CHECK(c.origins.where("appservice.hs_token") == "env MXBRIDGE_APPSERVICE_HS_TOKEN");
    CHECK(c.origins.where("appservice.as_token") == file + ":4");  // unset: its section's line
    CHECK(c.origins.raw().empty());
}
