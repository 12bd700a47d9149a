// A bridge to nowhere: accepts every event and does nothing with it. For benchmarks of the
// framework's own path (bench/run_bench.sh) and for checking a deployment's plumbing.
#include "mxbridge/connector.h"

namespace mxbridge {

// Takes events raw: classifying content it will throw away would only cost the benchmark.
class NullConnector final : public Connector, public RawEventHandler {
public:
    BridgeInfo info() const override {
        return BridgeInfo{"null", "Accepts every event and bridges it nowhere (benchmarks)",
                          "null_{id}", "null_{id}", {}, "nowhere"};
    }
    void start(BridgeContext&) override {}
    HookResult onMatrixMessage(const MatrixMessage&) override { return HookResult::ignored(); }
    HookResult onMatrixEvent(const MatrixEvent&) override { return HookResult::ignored(); }
};

MXBRIDGE_BRIDGE(NullConnector, "null", "Accepts every event and bridges it nowhere (benchmarks)");

}  // namespace mxbridge
