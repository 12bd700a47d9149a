// A test bridge, loaded as a plug-in (bridge.type: path/to/libmxbridge_probe_bridge.so).
// It records what the framework hands it in its own key/value store, so tests can prove
// exactly-once handling and per-room order from the database after any crash:
//   count:<event_id>  how many times the event was handled (must end at 1)
//   log:<room_id>     event ids in the order they were handled, one per line
//   content:<event_id> the content the hook read (MatrixEvent::content), as JSON
// Options (bridge: section): slow_ms (sleep per event, to keep events in flight),
// fail_first (retryable failures before each event succeeds),
// known_prefix (localparts/aliases containing it "exist" for user and alias queries),
// report_states (at start: its own connection to "probe-net" connected, and a login of
// @alice:hs.test refused, for the state endpoint and the owner's DM).
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "mxbridge/connector.h"

namespace mxbridge::test {

class ProbeConnector final : public Connector, public RawEventHandler {
public:
    BridgeInfo info() const override {
        return BridgeInfo{"probe", "records handled events for tests", "probe_{id}", "probe_{id}",
                          {"probe"}, "Probe"};
    }

    void start(BridgeContext& context) override {
        context_ = &context;
        slowMs_ = context.config().getInt("slow_ms", 0, 0, 60000);
        failFirst_ = context.config().getInt("fail_first", 0, 0, 100);
        knownPrefix_ = context.config().getString("known_prefix", "known");
        if (context.config().getBool("report_states", false)) reportStates(context);
    }

    // Events arrive raw (RawEventHandler), so the classified hook is never called.
    HookResult onMatrixMessage(const MatrixMessage&) override { return HookResult::ignored(); }

    HookResult onMatrixEvent(const MatrixEvent& event) override {
        KvStore& kv = context_->kv();
        const std::string& id = event.eventId().str();
        if (failFirst_ > 0) {
            // Counted in memory: the framework drops the staged writes of a hook it retries.
            std::lock_guard lock(mutex_);
            if (++failures_[id] <= failFirst_)
                return HookResult::failed(Error::transient("probe_busy", "probe asked for a retry"));
        }
        if (slowMs_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(slowMs_));
        std::string countKey = "count:" + id;
        int count = std::stoi(kv.get(countKey).value_or("0"));
        kv.put(countKey, std::to_string(count + 1));
        std::string logKey = "log:" + event.roomId().str();
        kv.put(logKey, kv.get(logKey).value_or("") + id + "\n");
        kv.put("content:" + id, event.content().dump());
        return HookResult::delivered(RemoteMessageId("probe-" + id));
    }

    HookResult onEphemeral(const MatrixEvent& event) override {
        KvStore& kv = context_->kv();
        std::string key = "ephemeral:" + event.type();
        kv.put(key, std::to_string(std::stoi(kv.get(key).value_or("0")) + 1));
        return HookResult::delivered();
    }

    HookResult onToDevice(const MatrixEvent& event) override {
        KvStore& kv = context_->kv();
        std::string key = "to_device:" + event.type();
        kv.put(key, std::to_string(std::stoi(kv.get(key).value_or("0")) + 1));
        return HookResult::delivered();
    }

    UserQueryAnswer onUserQuery(const UserId& user) override {
        if (user.str().find(knownPrefix_) == std::string::npos) return UserQueryAnswer::notFound();
        return UserQueryAnswer::ghost("Probe " + std::string(localpartOf(user.str())));
    }

    AliasQueryAnswer onAliasQuery(const RoomAlias& alias) override {
        if (alias.str().find(knownPrefix_) == std::string::npos) return AliasQueryAnswer::notFound();
        std::string local(localpartOf(alias.str()));
        PortalInfo portal;
        portal.id = RemoteRoomId("probe/" + local);
        portal.name = "Probe room " + local;
        portal.aliasId = local.substr(std::string("probe_").size());
        portal.isPublic = true;
        return AliasQueryAnswer::create(portal);
    }

    std::optional<nlohmann::json> onThirdpartyProtocol(const std::string& protocol) override {
        if (protocol != "probe") return std::nullopt;
        return nlohmann::json{{"user_fields", {"name"}},
                              {"location_fields", {"channel"}},
                              {"icon", "mxc://example.org/probe"},
                              {"field_types",
                               {{"name", {{"regexp", ".+"}, {"placeholder", "alice"}}},
                                {"channel", {{"regexp", ".+"}, {"placeholder", "#chan"}}}}},
                              {"instances", nlohmann::json::array()}};
    }

private:
    static void reportStates(BridgeContext& context) {
        const StateSubject own{.network = "probe-net", .owner = UserId(), .loginId = {}};
        context.reportState(own, {.state = RemoteState::Connecting, .reason = {}, .code = {}});
        context.reportState(own, {.state = RemoteState::Connected, .reason = {}, .code = {}});
        context.reportState({.network = "probe-net", .owner = UserId("@alice:hs.test"), .loginId = "alice-1"},
                            {.state = RemoteState::BadCredentials, .reason = "password refused", .code = "bad_password"});
    }

    BridgeContext* context_ = nullptr;
    int64_t slowMs_ = 0;
    int64_t failFirst_ = 0;
    std::string knownPrefix_;
    std::mutex mutex_;
    std::map<std::string, int> failures_;
};

MXBRIDGE_BRIDGE(ProbeConnector, "probe", "records handled events for tests");

}  // namespace mxbridge::test
