// Scratch folders and whole-file helpers for integration tests.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mxbridge::test {

// A fresh folder under /tmp, removed with everything in it on destruction. Set
// MXBRIDGE_KEEP_TEMP=1 to keep it (its path is printed) when a failure needs the logs.
class TempDir {
public:
    explicit TempDir(std::string_view prefix = "mxbridge-test");
    ~TempDir();
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
    void remove() noexcept;

    std::filesystem::path path_;
};

// Throws HarnessError naming the file when it cannot be read or written.
std::string readFile(const std::filesystem::path& file);
void writeFile(const std::filesystem::path& file, std::string_view content);

// Replaces every occurrence of `from` in `text`; used to fill @DIR@/@PORT@ in config templates.
std::string replaceAll(std::string text, std::string_view from, std::string_view to);

}  // namespace mxbridge::test
