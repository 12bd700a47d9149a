// JSON-schema subset validator (see json_schema.h).
#include "json_schema.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <regex>

namespace mxbridge::test {

using nlohmann::json;

namespace {

std::string escapePointer(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

// std::regex construction is slow; patterns are few, so cache them process-wide.
const std::regex* compiledPattern(const std::string& pattern) {
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<std::regex>> cache;
    std::lock_guard lock(mutex);
    auto it = cache.find(pattern);
    if (it == cache.end()) {
        std::unique_ptr<std::regex> re;
        try {
            re = std::make_unique<std::regex>(pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            std::fprintf(stderr, "json_schema: ignoring pattern std::regex cannot compile: %s (%s)\n",
                         pattern.c_str(), e.what());
        }
        it = cache.emplace(pattern, std::move(re)).first;
    }
    return it->second.get();
}

bool matchesType(const std::string& type, const json& v) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    if (type == "number") return v.is_number();
    if (type == "integer") {
        if (v.is_number_integer()) return true;
        if (v.is_number_float()) {
            const double d = v.get<double>();
            return std::isfinite(d) && std::floor(d) == d;
        }
        return false;
    }
    return true;  // Unknown type names accept anything.
}

std::string typeName(const json& v) {
    if (v.is_number_integer()) return "integer";
    if (v.is_number_float()) return "number";
    return v.type_name();
}

class Validator {
public:
    std::vector<std::string> problems;

    void check(const json& schema, const json& v, const std::string& path) {
        if (schema.is_boolean()) {
            if (!schema.get<bool>()) add(path, "no value allowed here");
            return;
        }
        if (!schema.is_object()) return;

        if (auto t = schema.find("type"); t != schema.end()) {
            bool ok = false;
            std::string expected;
            if (t->is_string()) {
                ok = matchesType(t->get<std::string>(), v);
                expected = t->get<std::string>();
            } else if (t->is_array()) {
                for (const auto& one : *t) {
                    if (!one.is_string()) continue;
                    ok = ok || matchesType(one.get<std::string>(), v);
                    expected += (expected.empty() ? "" : "|") + one.get<std::string>();
                }
            } else {
                ok = true;
            }
            if (!ok) {
                add(path, "expected " + expected + ", got " + typeName(v));
                return;  // Further keywords would only repeat the mismatch.
            }
        }
        if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
            bool found = false;
            for (const auto& option : *e) found = found || option == v;
            if (!found) add(path, "value " + v.dump() + " not in enum " + e->dump());
        }
        if (auto c = schema.find("const"); c != schema.end() && *c != v) {
            add(path, "value " + v.dump() + " is not the constant " + c->dump());
        }
        if (v.is_object()) checkObject(schema, v, path);
        if (v.is_array()) checkArray(schema, v, path);
        if (v.is_string()) checkString(schema, v.get_ref<const std::string&>(), path);
        if (v.is_number()) checkNumber(schema, v.get<double>(), path);

        if (auto all = schema.find("allOf"); all != schema.end() && all->is_array()) {
            for (const auto& sub : *all) check(sub, v, path);
        }
        if (auto any = schema.find("anyOf"); any != schema.end() && any->is_array()) {
            std::vector<std::string> firstProblems;
            bool ok = false;
            for (const auto& sub : *any) {
                Validator inner;
                inner.check(sub, v, path);
                if (inner.problems.empty()) { ok = true; break; }
                if (firstProblems.empty()) firstProblems = inner.problems;
            }
            if (!ok) {
                add(path, "matches none of anyOf");
                for (auto& p : firstProblems) problems.push_back("  (first option) " + p);
            }
        }
        if (auto one = schema.find("oneOf"); one != schema.end() && one->is_array()) {
            int matches = 0;
            for (const auto& sub : *one) {
                Validator inner;
                inner.check(sub, v, path);
                if (inner.problems.empty()) ++matches;
            }
            if (matches != 1) add(path, "matches " + std::to_string(matches) + " of oneOf, wanted exactly 1");
        }
        if (auto no = schema.find("not"); no != schema.end()) {
            Validator inner;
            inner.check(*no, v, path);
            if (inner.problems.empty()) add(path, "matches a schema under `not`");
        }
    }

private:
    void add(const std::string& path, const std::string& what) {
        problems.push_back((path.empty() ? "/" : path) + ": " + what);
    }

    void checkObject(const json& schema, const json& v, const std::string& path) {
        const auto props = schema.find("properties");
        const auto patterns = schema.find("patternProperties");
        const auto additional = schema.find("additionalProperties");
        if (auto req = schema.find("required"); req != schema.end() && req->is_array()) {
            for (const auto& name : *req) {
                if (name.is_string() && !v.contains(name.get<std::string>())) {
                    add(path + "/" + escapePointer(name.get<std::string>()), "required property missing");
                }
            }
        }
        for (const auto& [key, value] : v.items()) {
            const std::string childPath = path + "/" + escapePointer(key);
            bool known = false;
            if (props != schema.end() && props->is_object()) {
                if (auto p = props->find(key); p != props->end()) {
                    known = true;
                    check(*p, value, childPath);
                }
            }
            if (patterns != schema.end() && patterns->is_object()) {
                for (const auto& [pattern, sub] : patterns->items()) {
                    const std::regex* re = compiledPattern(pattern);
                    if (re && std::regex_search(key, *re)) {
                        known = true;
                        check(sub, value, childPath);
                    }
                }
            }
            if (!known && additional != schema.end()) {
                if (additional->is_boolean() && !additional->get<bool>()) {
                    add(childPath, "property not allowed (additionalProperties: false)");
                } else if (additional->is_object()) {
                    check(*additional, value, childPath);
                }
            }
        }
        if (auto m = schema.find("minProperties"); m != schema.end() && m->is_number() &&
                                                   v.size() < m->get<std::size_t>()) {
            add(path, "fewer than " + m->dump() + " properties");
        }
        if (auto m = schema.find("maxProperties"); m != schema.end() && m->is_number() &&
                                                   v.size() > m->get<std::size_t>()) {
            add(path, "more than " + m->dump() + " properties");
        }
    }

    void checkArray(const json& schema, const json& v, const std::string& path) {
        std::size_t tuple = 0;
        if (auto prefix = schema.find("prefixItems"); prefix != schema.end() && prefix->is_array()) {
            tuple = prefix->size();
            for (std::size_t i = 0; i < tuple && i < v.size(); ++i) {
                check((*prefix)[i], v[i], path + "/" + std::to_string(i));
            }
        }
        if (auto items = schema.find("items"); items != schema.end()) {
            if (items->is_array()) {
                for (std::size_t i = 0; i < items->size() && i < v.size(); ++i) {
                    check((*items)[i], v[i], path + "/" + std::to_string(i));
                }
            } else {
                for (std::size_t i = tuple; i < v.size(); ++i) {
                    check(*items, v[i], path + "/" + std::to_string(i));
                }
            }
        }
        if (auto m = schema.find("minItems"); m != schema.end() && m->is_number() &&
                                              v.size() < m->get<std::size_t>()) {
            add(path, "fewer than " + m->dump() + " items");
        }
        if (auto m = schema.find("maxItems"); m != schema.end() && m->is_number() &&
                                              v.size() > m->get<std::size_t>()) {
            add(path, "more than " + m->dump() + " items");
        }
    }

    static std::size_t codePoints(const std::string& s) {
        std::size_t n = 0;
        for (unsigned char c : s) n += (c & 0xC0) != 0x80;
        return n;
    }

    void checkString(const json& schema, const std::string& s, const std::string& path) {
        if (auto m = schema.find("minLength"); m != schema.end() && m->is_number() &&
                                               codePoints(s) < m->get<std::size_t>()) {
            add(path, "shorter than minLength " + m->dump());
        }
        if (auto m = schema.find("maxLength"); m != schema.end() && m->is_number() &&
                                               codePoints(s) > m->get<std::size_t>()) {
            add(path, "longer than maxLength " + m->dump());
        }
        if (auto p = schema.find("pattern"); p != schema.end() && p->is_string()) {
            const std::regex* re = compiledPattern(p->get<std::string>());
            if (re && !std::regex_search(s, *re)) {
                add(path, "\"" + s + "\" does not match pattern " + p->get<std::string>());
            }
        }
    }

    void checkNumber(const json& schema, double d, const std::string& path) {
        if (auto m = schema.find("minimum"); m != schema.end() && m->is_number() && d < m->get<double>()) {
            add(path, "below minimum " + m->dump());
        }
        if (auto m = schema.find("maximum"); m != schema.end() && m->is_number() && d > m->get<double>()) {
            add(path, "above maximum " + m->dump());
        }
        if (auto m = schema.find("exclusiveMinimum"); m != schema.end() && m->is_number() &&
                                                      d <= m->get<double>()) {
            add(path, "not above exclusiveMinimum " + m->dump());
        }
        if (auto m = schema.find("exclusiveMaximum"); m != schema.end() && m->is_number() &&
                                                      d >= m->get<double>()) {
            add(path, "not below exclusiveMaximum " + m->dump());
        }
    }
};

}  // namespace

std::vector<std::string> validateJsonSchema(const json& schema, const json& instance,
                                            const std::string& rootPath) {
    Validator v;
    v.check(schema, instance, rootPath);
    return std::move(v.problems);
}

}  // namespace mxbridge::test
