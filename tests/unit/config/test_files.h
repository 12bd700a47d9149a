// Temporary directories and files for config and registration tests.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "mxbridge/config.h"

namespace mxbridge::test {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "mxbridge-config-XXXXXX").string();
        path_ = ::mkdtemp(tmpl.data());
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(file(name), std::ios::binary) << text;
        return file(name);
    }

private:
    std::filesystem::path path_;
};

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void replaceAll(std::string& s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

// The ConfigError message for `text` as a config file named cfg.yaml, or "(no error)".
inline std::string loadError(const std::string& text,
                             const std::map<std::string, std::string>& env = {}) {
    TempDir dir;
    std::string path = dir.write("cfg.yaml", text);
    try {
        loadConfig(path, env);
    } catch (const ConfigError& e) {
        std::string msg = e.what();
        replaceAll(msg, path, "cfg.yaml");
        return msg;
    }
    return "(no error)";
}

}  // namespace mxbridge::test
