// SPDX-License-Identifier: GPL-2.0-or-later
//
// mxbridge-purple-host: libpurple for one bridge, in a process of its own, so a plugin that
// crashes or hangs takes down this host and never the bridge. The bridge starts it with one
// end of a socketpair(AF_UNIX, SOCK_SEQPACKET):
//
//   mxbridge-purple-host --fd <n> --user-dir <dir> [--plugin-dir <dir>]... [--parent <pid>]
//
// One GLib main loop runs everything; it is the only thread that touches libpurple. The host
// ends when the bridge closes its end, and dies with the bridge (PR_SET_PDEATHSIG).
#include <glib.h>
#include <purple.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "accounts.h"
#include "chats.h"
#include "host_link.h"
#include "mxbridge/purple/messages.h"
#include "prompts.h"
#include "protocols.h"
#include "purple_runtime.h"

namespace {

using namespace mxbridge::purple;
using namespace mxbridge::purple::host;

struct Arguments {
    int fd = -1;
    pid_t parent = 0;
    RuntimeOptions runtime;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "mxbridge-purple-host: %s\nusage: mxbridge-purple-host --fd <n> --user-dir <dir> "
                 "[--plugin-dir <dir>]... [--parent <pid>]\n",
                 why);
    std::exit(2);
}

Arguments parse(int argc, char** argv) {
    Arguments args;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + flag).c_str());
        const char* value = argv[++i];
        if (flag == "--fd")
            args.fd = std::atoi(value);
        else if (flag == "--user-dir")
            args.runtime.userDir = value;
        else if (flag == "--plugin-dir")
            args.runtime.pluginDirs.emplace_back(value);
        else if (flag == "--parent")
            args.parent = static_cast<pid_t>(std::atol(value));
        else
            usage(("unknown option " + flag).c_str());
    }
    if (args.fd < 0) usage("--fd is required");
    if (args.runtime.userDir.empty()) usage("--user-dir is required");
    return args;
}

class Host {
public:
    explicit Host(int fd)
        : link_(fd, [this](const wire::Message& m) { handle(m); }, [this] { g_main_loop_quit(loop_); }),
          accounts_(link_),
          chats_(link_, accounts_) {}

    int run(Arguments& args) {
        args.runtime.logSink = [this](const char* level, const char* category, const std::string& text) {
            std::fprintf(stderr, "%s %s: %s\n", level, category, text.c_str());
            link_.emit(wire::HostLog{.level = level, .category = category, .text = text});
        };
        std::string error;
        if (!startLibpurple(args.runtime, error)) {
            std::fprintf(stderr, "mxbridge-purple-host: %s\n", error.c_str());
            return 1;
        }
        installPromptPolicy([this](const char* level, const std::string& text) {
            std::fprintf(stderr, "%s prompt: %s\n", level, text.c_str());
            link_.emit(wire::HostLog{.level = level, .category = "prompt", .text = text});
        });
        accounts_.attach();
        chats_.attach();  // after accounts_: it adds to the conversation UI ops those install
        link_.start();
        g_main_loop_run(loop_);
        stopLibpurple();
        return 0;
    }

private:
    void handle(const wire::Message& request) {
        try {
            dispatch(request);
        } catch (const wire::FieldError& e) {
            link_.fail(request, "bad_request", e.what());
        }
    }

    void dispatch(const wire::Message& request) {
        const std::string& type = request.type;
        if (type == wire::Hello::kType) {
            wire::Hello hello = wire::Hello::fromRecord(request.body);
            if (hello.version != wire::kVersion) {
                link_.fail(request, "bad_request", "this host speaks wire version " + std::to_string(wire::kVersion));
                return;
            }
            link_.reply(request, wire::HelloReply{.version = wire::kVersion,
                                                  .pid = static_cast<std::int64_t>(getpid()),
                                                  .libpurpleVersion = purple_core_get_version()}
                                     .toRecord());
        } else if (type == wire::kPing) {
            link_.reply(request, {});
        } else if (type == wire::ProtocolList::kType) {
            link_.reply(request, listProtocols().toRecord());
        } else if (type == wire::Login::kType) {
            accounts_.login(request);
        } else if (type == wire::Logout::kType) {
            accounts_.logout(request);
        } else if (type == wire::SendIm::kType) {
            accounts_.sendIm(request);
        } else if (type == wire::SendTyping::kType) {
            accounts_.sendTyping(request);
        } else if (type == wire::JoinChat::kType) {
            chats_.join(request);
        } else if (type == wire::LeaveChat::kType) {
            chats_.leave(request);
        } else if (type == wire::SendChat::kType) {
            chats_.send(request);
        } else {
            link_.fail(request, "bad_request", "this host does not know '" + type + "'");
        }
    }

    GMainLoop* loop_ = g_main_loop_new(nullptr, FALSE);
    HostLink link_;
    Accounts accounts_;
    Chats chats_;
};

}  // namespace

int main(int argc, char** argv) {
    Arguments args = parse(argc, argv);
    // Die with the bridge; and if it is already gone (it died before the call), now.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (args.parent != 0 && getppid() != args.parent) return 1;
    // A dying bridge's socket gives EPIPE, never a signal.
    std::signal(SIGPIPE, SIG_IGN);
    Host host(args.fd);
    return host.run(args);
}
