#include "store/private_files.h"

#include <cerrno>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mxbridge::detail {

namespace fs = std::filesystem;

void createPrivateFolders(const fs::path& folder) {
    if (folder.empty()) return;
    std::vector<fs::path> missing;
    for (fs::path p = fs::absolute(folder); !p.empty() && !fs::exists(p); p = p.parent_path()) {
        missing.push_back(p);
        if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (fs::create_directory(*it))
            // mkdir(2) applies the umask to what it is given: set the mode itself afterwards.
            fs::permissions(*it, fs::perms::owner_all, fs::perm_options::replace);
    }
}

void createPrivateFile(const fs::path& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return;
        throw std::system_error(errno, std::generic_category(), "cannot create " + file.string());
    }
    int rc = ::fchmod(fd, 0600);  // the umask may have taken bits from 0600 too; never added any
    int err = errno;
    ::close(fd);
    if (rc != 0) throw std::system_error(err, std::generic_category(), "cannot set mode 0600 on " + file.string());
}

bool readableByOthers(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return false;
    return (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

}  // namespace mxbridge::detail
