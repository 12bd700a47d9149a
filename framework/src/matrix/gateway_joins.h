// BridgeContext::resolveAlias() and joinRoomAs(): a remote user entering an existing Matrix
// room through a gateway (the XMPP bridge's MUC service). The remote user is waiting for the
// answer, so these are direct calls to the homeserver on two threads of their own, not
// durable outbox requests: a failure is told to them at once and they ask again.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/thread_pool.hpp>

#include "matrix/hs_client.h"
#include "mxbridge/connector.h"

namespace mxbridge::detail {

class GatewayJoins {
public:
    // `isOwnAlias` says whether an alias is in the bridge's namespace (its portals: refused).
    GatewayJoins(HomeserverClient& hs, std::function<bool(const RoomAlias&)> isOwnAlias,
                 std::function<bool(const UserId&)> isGhost);
    ~GatewayJoins();
    GatewayJoins(const GatewayJoins&) = delete;
    GatewayJoins& operator=(const GatewayJoins&) = delete;

    void resolveAlias(const RoomAlias& alias, std::function<void(Result<RoomId>)> done);
    void joinRoomAs(const UserId& ghost, const RoomAlias& alias, std::size_t historyLines,
                    std::function<void(Result<JoinedRoom>)> done);
    // Calls not started yet are answered "stopping"; waits for those in flight. Idempotent.
    void stop();

private:
    Result<RoomId> resolve(const RoomAlias& alias);
    Result<JoinedRoom> join(const UserId& ghost, const RoomAlias& alias, std::size_t historyLines);
    std::vector<JoinedRoom::Line> history(const UserId& ghost, const std::string& room, std::size_t lines);
    std::optional<Error> refusal(const RoomAlias& alias) const;

    HomeserverClient& hs_;
    std::function<bool(const RoomAlias&)> isOwnAlias_;
    std::function<bool(const UserId&)> isGhost_;
    std::atomic<bool> stopping_{false};
    boost::asio::thread_pool pool_{2};
};

}  // namespace mxbridge::detail
