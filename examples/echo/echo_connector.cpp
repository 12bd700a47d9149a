// The echo bridge: a complete mxbridge bridge whose "remote network" answers every message
// with the same text, from a ghost called Echo. Join #echo_<anything>:your.server and talk.
// It shows the whole connector surface a real bridge uses, in public headers only.
#include <mxbridge/connector.h>

namespace echo {

using namespace mxbridge;

class EchoConnector final : public Connector,
                            public EditHandler,
                            public RedactionHandler,
                            public ReactionHandler,
                            public ConfigValidator {
public:
    BridgeInfo info() const override {
        return BridgeInfo{"echo", "Echoes every message back (an example bridge)", "echo_{id}",
                          "echo_{id}", {"echo"}, "Echo"};
    }

    // Its one setting; check-config and run refuse anything else in the section.
    void validateConfig(const ConfigSection& section) const override {
        section.rejectUnknownKeys({"prefix"});
        section.getString("prefix", "");
    }

    void start(BridgeContext& context) override {
        ctx_ = &context;
        prefix_ = context.config().getString("prefix", "");
        context.commands().add(Command{"echo-rooms", "", "List the rooms the echo bridge serves",
                                       Permission::User, 0, [this](CommandCall& call) {
                                           std::string text = "Echo rooms:";
                                           for (const Link& link : ctx_->links().all())
                                               text += "\n" + link.room.str() + " <-> " + link.remote.str();
                                           call.reply(text);
                                       }});
    }

    // #echo_<name>:server creates a portal for the remote room "echo/<name>" on first join.
    AliasQueryAnswer onAliasQuery(const RoomAlias& alias) override {
        std::string name(localpartOf(alias.str()).substr(std::string("echo_").size()));
        return AliasQueryAnswer::create(portal(RemoteRoomId("echo/" + name), name));
    }

    HookResult onMatrixMessage(const MatrixMessage& message) override {
        RemoteMessageId sent("m/" + message.event.eventId().str());
        for (const RemoteRoomId& remote : message.remotes) {
            RemoteMessage echo{portal(remote, remote.str()), echoUser(),
                               RemoteMessageId("echo/" + message.event.eventId().str()),
                               message.kind, prefix_ + message.body, std::nullopt, sent,
                               std::nullopt, std::nullopt};
            if (message.html) echo.html = prefix_ + *message.html;
            ctx_->queueRemote(std::move(echo));
        }
        return HookResult::delivered(sent);
    }

    HookResult onMatrixEdit(const MatrixEdit& edit) override {
        for (const RemoteRoomId& remote : edit.remotes)
            ctx_->queueRemote(RemoteEdit{remote, echoUser(), echoOf(edit.target),
                                         prefix_ + edit.newBody, edit.newHtml});
        return HookResult::delivered();
    }

    HookResult onMatrixRedaction(const MatrixRedaction& redaction) override {
        for (const RemoteRoomId& remote : redaction.remotes)
            ctx_->queueRemote(RemoteRedaction{remote, echoUser(), echoOf(redaction.target),
                                              "the original was deleted"});
        return HookResult::delivered();
    }

    HookResult onMatrixReaction(const MatrixReaction& reaction) override {
        for (const RemoteRoomId& remote : reaction.remotes)
            ctx_->queueRemote(RemoteReaction{remote, echoUser(), echoOf(reaction.target),
                                             RemoteMessageId("r/" + reaction.event.eventId().str()),
                                             reaction.key, false});
        return HookResult::delivered();
    }

private:
    static PortalInfo portal(const RemoteRoomId& id, const std::string& name) {
        PortalInfo p;
        p.id = id;
        p.name = "Echo " + name;
        p.topic = "Everything said here comes back";
        p.aliasId = name;
        p.isPublic = true;
        return p;
    }
    static RemoteSender echoUser() {
        return RemoteSender{RemoteUserId("echo"), "echo", std::string("Echo"), std::nullopt};
    }
    // The echo of a Matrix event carries the id "echo/<event id>".
    static RemoteMessageId echoOf(const EventId& original) {
        return RemoteMessageId("echo/" + original.str());
    }

    BridgeContext* ctx_ = nullptr;
    std::string prefix_;
};

MXBRIDGE_BRIDGE(EchoConnector, "echo", "Echoes every message back (an example bridge)");

}  // namespace echo
