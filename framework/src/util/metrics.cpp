#include "mxbridge/metrics.h"

#include <cmath>
#include <sstream>

namespace mxbridge {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
    for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::observe(double v) {
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sumMicros_.fetch_add(static_cast<uint64_t>(std::llround(std::max(0.0, v) * 1e6)),
                         std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucketCounts() const {
    std::vector<uint64_t> out(bounds_.size() + 1);
    uint64_t running = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        out[i] = running;
    }
    return out;
}

double Histogram::sum() const { return static_cast<double>(sumMicros_.load()) / 1e6; }
uint64_t Histogram::count() const { return count_.load(); }

namespace {
std::string escapeLabel(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\', out += c;
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}
std::string labelText(const Labels& labels) {
    if (labels.empty()) return {};
    std::string out = "{";
    for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out += ',';
        out += labels[i].first + "=\"" + escapeLabel(labels[i].second) + "\"";
    }
    return out + "}";
}
std::string withLabel(const std::string& labelSet, const std::string& extra) {
    if (labelSet.empty()) return "{" + extra + "}";
    return labelSet.substr(0, labelSet.size() - 1) + "," + extra + "}";
}
std::string number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}
}  // namespace

Metrics::Family& Metrics::family(const std::string& name, const std::string& type,
                                 const std::string& help) {
    auto& f = families_[name];
    if (f.type.empty()) f.type = type;
    if (f.help.empty()) f.help = help;
    return f;
}

Counter& Metrics::counter(const std::string& name, const std::string& help, const Labels& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, "counter", help).counters[labelText(labels)];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

Gauge& Metrics::gauge(const std::string& name, const std::string& help, const Labels& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, "gauge", help).gauges[labelText(labels)];
    if (!slot) slot = std::make_unique<Gauge>();
    return *slot;
}

Histogram& Metrics::histogram(const std::string& name, const std::string& help,
                              const Labels& labels, std::vector<double> bounds) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, "histogram", help).histograms[labelText(labels)];
    if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
    return *slot;
}

std::string Metrics::renderPrometheus() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, f] : families_) {
        out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
        for (const auto& [labels, c] : f.counters)
            out += name + labels + " " + std::to_string(c->value()) + "\n";
        for (const auto& [labels, g] : f.gauges)
            out += name + labels + " " + std::to_string(g->value()) + "\n";
        for (const auto& [labels, h] : f.histograms) {
            auto counts = h->bucketCounts();
            for (size_t i = 0; i < h->bounds().size(); ++i)
                out += name + "_bucket" + withLabel(labels, "le=\"" + number(h->bounds()[i]) + "\"") +
                       " " + std::to_string(counts[i]) + "\n";
            out += name + "_bucket" + withLabel(labels, "le=\"+Inf\"") + " " +
                   std::to_string(counts.back()) + "\n";
            out += name + "_sum" + labels + " " + number(h->sum()) + "\n";
            out += name + "_count" + labels + " " + std::to_string(h->count()) + "\n";
        }
    }
    return out;
}

}  // namespace mxbridge
