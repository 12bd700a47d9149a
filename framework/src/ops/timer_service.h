// BridgeContext::every() and after(): one thread runs every timer from a time-ordered queue.
// A task that throws is logged and, if periodic, keeps its schedule. TimerHandle::cancel()
// may be called from any thread, inside the task too; from another thread it returns only
// once a run in progress has finished, so the caller may then free what the task uses.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "mxbridge/connector.h"

namespace mxbridge::detail {

class TimerService {
public:
    TimerService();
    // Stops the thread; handles that outlive the service cancel nothing, harmlessly.
    ~TimerService();
    TimerService(const TimerService&) = delete;
    TimerService& operator=(const TimerService&) = delete;

    // First run one `interval` from now; a run that overruns skips the missed beats.
    TimerHandle every(std::chrono::milliseconds interval, std::function<void()> task);
    TimerHandle after(std::chrono::milliseconds delay, std::function<void()> task);
    // Cancels every timer and joins the thread (waits for a running task). Idempotent.
    void stop();

private:
    struct State;
    TimerHandle schedule(std::chrono::milliseconds delay, std::chrono::milliseconds interval,
                         std::function<void()> task);
    std::shared_ptr<State> state_;
};

}  // namespace mxbridge::detail
