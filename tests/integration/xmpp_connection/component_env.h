// A loop thread and a component connection whose callbacks are recorded for the test thread
// to wait on, torn down in the order the connection's contract asks for: connection, loop.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "mxbridge/xmpp/component_connection.h"
#include "recorder.h"

namespace mxbridge::test {

using namespace std::chrono_literals;

class ComponentEnv {
public:
    explicit ComponentEnv(xmpp::ComponentOptions options);
    ~ComponentEnv();

    xmpp::ComponentConnection& connection() { return *connection_; }

    // Every state change, stanza (message, presence, unclaimed IQ answers) and send failure.
    Recorder<xmpp::ComponentStateChange> states;
    Recorder<xmpp::Element> stanzas;
    Recorder<std::string> sendFailures;
    // IQ gets and sets addressed to the component's users: recorded, and left unanswered
    // (the handler claims them), so a test can see them and time them out.
    Recorder<xmpp::Element> iqs;

    // A change to `state` at index `from` or later.
    std::optional<xmpp::ComponentStateChange> waitState(xmpp::ComponentState state,
                                                        std::chrono::milliseconds timeout = 10s,
                                                        std::size_t from = 0);
    // Sends an IQ and waits for its answer (or time-out, or disconnection).
    xmpp::IqResponse sendIqAndWait(xmpp::Element iq, std::chrono::milliseconds timeout = 5s);
    std::string history() const;  // every state change, for failure messages

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::optional<xmpp::ComponentConnection> connection_;
    std::thread thread_;
};

}  // namespace mxbridge::test
