// Where bridge code's writes go. While a hook runs on this thread, the stores, the outbox
// and kv() stage their writes here, and the dispatcher commits them with the event's done
// mark; outside a hook they go straight to the journal writer.
#pragma once

#include <vector>

#include "journal/journal.h"

namespace mxbridge::detail {

struct HookStage {
    std::vector<KvWrite>* kv = nullptr;
    std::vector<StagedOp>* ops = nullptr;
};

// The stage of the hook running on this thread, or nullptr.
HookStage*& currentHookStage();

// Stages `op` when a hook is running on this thread; otherwise hands it to the journal and,
// when `waitOutsideHook`, blocks until it is committed.
void stageOrRun(Journal& journal, StagedOp op, bool waitOutsideHook);

}  // namespace mxbridge::detail
