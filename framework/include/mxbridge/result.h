// Expected failures as values. Shaped like std::expected (which g++ 12 lacks in C++20 mode)
// so the switch later is mechanical.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace mxbridge {

// What a failure means for the caller: may it retry, and should the sender be told?
struct Error {
    std::string code;     // stable machine-readable code, e.g. "M_FORBIDDEN", "remote_refused"
    std::string message;  // for humans: what happened and, where known, what to do
    bool retryable = false;
    bool notifySender = false;

    static Error permanent(std::string code, std::string message) {
        return Error{std::move(code), std::move(message), false, true};
    }
    static Error transient(std::string code, std::string message) {
        return Error{std::move(code), std::move(message), true, false};
    }
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

private:
    Error error_;
    bool ok_ = true;
};

}  // namespace mxbridge
