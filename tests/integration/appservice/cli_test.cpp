// The command line as an operator meets it: first run, check-config, registration, help.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <regex>

#include "bridge_process.h"

namespace mxbridge::test {

namespace {

struct Run {
    std::optional<int> exit;
    std::string output;
};

Run runCli(const std::vector<std::string>& args, const std::filesystem::path& workDir) {
    ProcessOptions options;
    options.argv = {mxbridgeBinary()};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.workDir = workDir;
    options.name = "mxbridge";
    Process p(std::move(options));
    Run run;
    run.exit = p.waitExit(20s);
    drainOutput(p);
    for (const auto& line : p.lines()) run.output += line + "\n";
    return run;
}

unsigned modeOf(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return 0;
    return st.st_mode & 0777;
}

// The value of a top-level `key:` line of a YAML file.
std::string yamlValue(const std::string& text, const std::string& key) {
    std::smatch m;
    std::regex re("(^|\n)" + key + ":\\s*\"?([^\"\n]*)\"?");
    return std::regex_search(text, m, re) ? m[2].str() : std::string();
}

std::string minimalConfig(const std::string& extra = "") {
    return "homeserver:\n"
           "  url: http://127.0.0.1:8008\n"
           "  server_name: hs.test\n"
           "appservice:\n"
           "  port: 29399\n"
           "  public_url: http://127.0.0.1:29399\n"
           "  registration_file: ./registration.yaml\n" +
           extra +
           "bridge:\n"
           "  type: " + probePlugin() + "\n";
}

}  // namespace

TEST_CASE("the first run without a config writes the sample config and a private registration, explains the next steps, and exits 3") {
    TempDir dir("mxbridge-cli");
    Run run = runCli({"run", "-c", "config.yaml"}, dir.path());
    INFO("output:\n" << run.output);
    CHECK(run.exit == 3);
    CHECK(std::filesystem::exists(dir / "config.yaml"));
    REQUIRE(std::filesystem::exists(dir / "registration.yaml"));
    CHECK(modeOf(dir / "registration.yaml") == 0600);
    std::string reg = readFile(dir / "registration.yaml");
    CHECK(yamlValue(reg, "as_token").size() >= 32);
    CHECK(yamlValue(reg, "hs_token").size() >= 32);
    CHECK(run.output.find("app_service_config_files") != std::string::npos);
    CHECK(run.output.find("Next steps") != std::string::npos);
}

TEST_CASE("check-config names file and line of an unknown key and of a left-over placeholder, and exits 3") {
    TempDir dir("mxbridge-cli");
    writeFile(dir / "config.yaml",
              "homeserver:\n"                           // 1
              "  url: http://127.0.0.1:8008\n"          // 2
              "  server_name: example.com\n"            // 3: the sample's placeholder
              "appservice:\n"                           // 4
              "  port: 29399\n"                         // 5
              "  publik_url: http://127.0.0.1:29399\n"  // 6: a typo
              "  public_url: http://127.0.0.1:29399\n"  // 7
              "bridge:\n"                               // 8
              "  type: " + probePlugin() + "\n");       // 9
    Run run = runCli({"check-config", "-c", "config.yaml"}, dir.path());
    INFO("output:\n" << run.output);
    CHECK(run.exit == 3);
    CHECK(run.output.find("config.yaml:3") != std::string::npos);
    CHECK(run.output.find("config.yaml:6") != std::string::npos);
    CHECK(run.output.find("publik_url") != std::string::npos);

    writeFile(dir / "config.yaml", minimalConfig());
    Run valid = runCli({"check-config", "-c", "config.yaml"}, dir.path());
    INFO("output:\n" << valid.output);
    CHECK(valid.exit == 0);
}

TEST_CASE("registration run twice keeps its tokens, and --regenerate-tokens replaces them") {
    TempDir dir("mxbridge-cli");
    writeFile(dir / "config.yaml", minimalConfig());
    Run first = runCli({"registration", "-c", "config.yaml"}, dir.path());
    INFO("output:\n" << first.output);
    CHECK(first.exit == 0);
    REQUIRE(std::filesystem::exists(dir / "registration.yaml"));
    CHECK(modeOf(dir / "registration.yaml") == 0600);
    std::string before = readFile(dir / "registration.yaml");
    CHECK(yamlValue(before, "as_token").size() >= 32);
    CHECK(first.output.find("app_service_config_files") != std::string::npos);

    Run second = runCli({"registration", "-c", "config.yaml"}, dir.path());
    CHECK(second.exit == 0);
    std::string after = readFile(dir / "registration.yaml");
    CHECK(yamlValue(after, "as_token") == yamlValue(before, "as_token"));
    CHECK(yamlValue(after, "hs_token") == yamlValue(before, "hs_token"));

    Run regen = runCli({"registration", "-c", "config.yaml", "--regenerate-tokens"}, dir.path());
    CHECK(regen.exit == 0);
    std::string fresh = readFile(dir / "registration.yaml");
    CHECK(yamlValue(fresh, "as_token") != yamlValue(before, "as_token"));
    CHECK(yamlValue(fresh, "hs_token") != yamlValue(before, "hs_token"));
}

TEST_CASE("--help and --version answer and exit 0, a wrong argument exits 2 with the usage") {
    TempDir dir("mxbridge-cli");
    Run help = runCli({"--help"}, dir.path());
    CHECK(help.exit == 0);
    CHECK(help.output.find("Usage:") != std::string::npos);
    CHECK(help.output.find("check-config") != std::string::npos);
    Run version = runCli({"--version"}, dir.path());
    CHECK(version.exit == 0);
    CHECK(std::regex_search(version.output, std::regex("^mxbridge [0-9]+\\.[0-9]+")));
    Run wrong = runCli({"frobnicate"}, dir.path());
    CHECK(wrong.exit == 2);
    CHECK(wrong.output.find("Usage:") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "config.yaml"));
}

}  // namespace mxbridge::test
