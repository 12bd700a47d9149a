#include "component_env.h"

#include <boost/asio/post.hpp>
#include <future>
#include <sstream>

namespace mxbridge::test {

ComponentEnv::ComponentEnv(xmpp::ComponentOptions options) : work_(io_.get_executor()) {
    xmpp::ComponentHandlers h;
    h.onStateChange = [this](const xmpp::ComponentStateChange& s) { states.push(s); };
    h.onStanza = [this](const xmpp::Element& e) { stanzas.push(e); };
    h.onIq = [this](const xmpp::Element& e) {
        iqs.push(e);
        return true;
    };
    h.onSendFailure = [this](const xmpp::Element&, const std::string& why) { sendFailures.push(why); };
    connection_.emplace(io_, std::move(options), std::move(h));
    thread_ = std::thread([this] { io_.run(); });
}

ComponentEnv::~ComponentEnv() {
    // Destroyed on the loop, as the contract asks; then the loop ends.
    std::promise<void> done;
    boost::asio::post(io_, [&] {
        connection_.reset();
        done.set_value();
    });
    done.get_future().wait_for(5s);
    work_.reset();
    io_.stop();
    thread_.join();
}

std::optional<xmpp::ComponentStateChange> ComponentEnv::waitState(xmpp::ComponentState state,
                                                                  std::chrono::milliseconds timeout,
                                                                  std::size_t from) {
    return states.wait([state](const xmpp::ComponentStateChange& s) { return s.state == state; }, timeout, from);
}

xmpp::IqResponse ComponentEnv::sendIqAndWait(xmpp::Element iq, std::chrono::milliseconds timeout) {
    auto answer = std::make_shared<std::promise<xmpp::IqResponse>>();
    connection_->sendIq(std::move(iq), [answer](const xmpp::IqResponse& r) { answer->set_value(r); }, timeout);
    auto future = answer->get_future();
    // The connection's own time-out answers first; this bound only guards the test.
    if (future.wait_for(timeout + 5s) != std::future_status::ready) {
        xmpp::IqResponse none;
        none.outcome = xmpp::IqOutcome::Timeout;
        none.error.text = "the callback never ran";
        return none;
    }
    return future.get();
}

std::string ComponentEnv::history() const {
    std::ostringstream out;
    for (const auto& s : states.all()) out << xmpp::stateName(s.state) << " (" << s.reason << ")\n";
    return out.str();
}

}  // namespace mxbridge::test
