#include "journal/hook_stage.h"

namespace mxbridge::detail {

HookStage*& currentHookStage() {
    thread_local HookStage* stage = nullptr;
    return stage;
}

void stageOrRun(Journal& journal, StagedOp op, bool waitOutsideHook) {
    if (HookStage* stage = currentHookStage(); stage && stage->ops) {
        stage->ops->push_back(std::move(op));
        return;
    }
    std::vector<StagedOp> ops;
    ops.push_back(std::move(op));
    journal.runOps(std::move(ops), waitOutsideHook);
}

}  // namespace mxbridge::detail
