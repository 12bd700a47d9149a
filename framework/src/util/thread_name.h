// Names the calling thread (at most 15 characters), so `top -H`, perf and gdb show which part
// of the bridge a busy or stuck thread belongs to.
#pragma once

#include <pthread.h>

namespace mxbridge::detail {

inline void nameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace mxbridge::detail
