// The framework's side of RemoteClientHandle (login.h): where a client's reports go, checked
// against the generation the handle was made with, so a retired client changes nothing.
#pragma once

#include <cstdint>

#include "mxbridge/login.h"

namespace mxbridge {

class RemoteClientHandle::Sink {
public:
    virtual ~Sink() = default;
    virtual void report(const LoginKey& key, uint64_t generation, const RemoteStatus& status) = 0;
    virtual bool isCurrent(const LoginKey& key, uint64_t generation) = 0;
    virtual void touch(const LoginKey& key, uint64_t generation) = 0;
    virtual void updateLogin(const LoginKey& key, uint64_t generation, const Login& login) = 0;
};

}  // namespace mxbridge
