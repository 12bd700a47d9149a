// Metrics: the Prometheus text format served at /metrics.
#include <doctest/doctest.h>

#include "mxbridge/metrics.h"

using namespace mxbridge;

namespace {
bool has(const std::string& text, const std::string& line) {
    return text.find(line + "\n") != std::string::npos;
}
}  // namespace

TEST_CASE("counters render with HELP, TYPE and one line per label set") {
    Metrics m;
    m.counter("mxbridge_tx_total", "Transactions, by outcome", {{"outcome", "accepted"}}).inc(3);
    m.counter("mxbridge_tx_total", "", {{"outcome", "duplicate"}}).inc();
    m.counter("mxbridge_plain_total", "No labels").inc(0);
    std::string text = m.renderPrometheus();
    CHECK(has(text, "# HELP mxbridge_tx_total Transactions, by outcome"));
    CHECK(has(text, "# TYPE mxbridge_tx_total counter"));
    CHECK(has(text, "mxbridge_tx_total{outcome=\"accepted\"} 3"));
    CHECK(has(text, "mxbridge_tx_total{outcome=\"duplicate\"} 1"));
    CHECK(has(text, "mxbridge_plain_total 0"));
    // HELP and TYPE once per family, not per label set.
    CHECK(text.find("# TYPE mxbridge_tx_total") == text.rfind("# TYPE mxbridge_tx_total"));
}

TEST_CASE("asking again for a metric with the same labels returns the same one") {
    Metrics m;
    Counter& a = m.counter("c_total", "help", {{"a", "1"}, {"b", "2"}});
    Counter& b = m.counter("c_total", "", {{"a", "1"}, {"b", "2"}});
    CHECK(&a == &b);
    a.inc();
    b.inc();
    CHECK(has(m.renderPrometheus(), "c_total{a=\"1\",b=\"2\"} 2"));
}

TEST_CASE("gauges go up and down, below zero too") {
    Metrics m;
    Gauge& g = m.gauge("mxbridge_backlog", "Items waiting");
    g.add(5);
    g.add(-7);
    std::string text = m.renderPrometheus();
    CHECK(has(text, "# TYPE mxbridge_backlog gauge"));
    CHECK(has(text, "mxbridge_backlog -2"));
    g.set(11);
    CHECK(has(m.renderPrometheus(), "mxbridge_backlog 11"));
}

TEST_CASE("histograms render cumulative buckets, +Inf, sum and count, with labels") {
    Metrics m;
    Histogram& h = m.histogram("mxbridge_ack_seconds", "Ack time", {{"route", "txn"}}, {0.001, 0.01, 0.1});
    for (double v : {0.0005, 0.001, 0.005, 0.05, 3.0}) h.observe(v);
    std::string text = m.renderPrometheus();
    CHECK(has(text, "# TYPE mxbridge_ack_seconds histogram"));
    CHECK(has(text, "mxbridge_ack_seconds_bucket{route=\"txn\",le=\"0.001\"} 2"));
    CHECK(has(text, "mxbridge_ack_seconds_bucket{route=\"txn\",le=\"0.01\"} 3"));
    CHECK(has(text, "mxbridge_ack_seconds_bucket{route=\"txn\",le=\"0.1\"} 4"));
    CHECK(has(text, "mxbridge_ack_seconds_bucket{route=\"txn\",le=\"+Inf\"} 5"));
    CHECK(has(text, "mxbridge_ack_seconds_sum{route=\"txn\"} 3.0565"));
    CHECK(has(text, "mxbridge_ack_seconds_count{route=\"txn\"} 5"));
    CHECK(h.count() == 5);
}

TEST_CASE("a histogram without labels gets only the le label on its buckets") {
    Metrics m;
    m.histogram("batch", "Batch size", {}, {1, 2}).observe(2);
    std::string text = m.renderPrometheus();
    CHECK(has(text, "batch_bucket{le=\"1\"} 0"));
    CHECK(has(text, "batch_bucket{le=\"2\"} 1"));
    CHECK(has(text, "batch_bucket{le=\"+Inf\"} 1"));
    CHECK(has(text, "batch_sum 2"));
    CHECK(has(text, "batch_count 1"));
}

TEST_CASE("label values are escaped") {
    Metrics m;
    m.counter("esc_total", "h", {{"v", "a\"b\\c\nd"}}).inc();
    CHECK(has(m.renderPrometheus(), "esc_total{v=\"a\\\"b\\\\c\\nd\"} 1"));
}
