// RemoteClientHandle's calls (login.h), forwarded to the framework's sink. A default-made
// handle (no sink) is never current and reports nowhere.
#include "login/remote_client_sink.h"

namespace mxbridge {

void RemoteClientHandle::report(const RemoteStatus& status) const {
    if (sink_) sink_->report(key_, generation_, status);
}

bool RemoteClientHandle::isCurrent() const { return sink_ && sink_->isCurrent(key_, generation_); }

void RemoteClientHandle::touch() const {
    if (sink_) sink_->touch(key_, generation_);
}

void RemoteClientHandle::updateLogin(const Login& login) const {
    if (sink_) sink_->updateLogin(key_, generation_, login);
}

}  // namespace mxbridge
