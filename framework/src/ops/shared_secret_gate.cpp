#include "ops/shared_secret_gate.h"

#include "appservice/token_auth.h"
#include "util/log_text.h"

namespace mxbridge::detail {

SharedSecretGate::SharedSecretGate(Secret<std::string> secret) : secret_(std::move(secret)) {}

std::optional<HttpResponse> SharedSecretGate::refusal(const http::request_header<>& header,
                                                      std::string_view path) {
    if (secret_.empty())
        return matrixError(http::status::forbidden, "M_FORBIDDEN",
                           "Provisioning is disabled (provisioning.enabled)");
    switch (TokenAuth(secret_, false).check(header)) {
        case AuthResult::Ok:
            return std::nullopt;
        case AuthResult::Missing:
        case AuthResult::QueryTokenRefused:
            return matrixError(http::status::unauthorized, "M_MISSING_TOKEN",
                               "Send the provisioning shared secret as Authorization: Bearer <secret>");
        case AuthResult::Wrong:
            if (auto heldBack = wrongSecretWarnings_.pass())
                log_.warn("request with a wrong provisioning secret refused",
                          {{"path", boundedForLog(path)}, {"similar_warnings_held_back", *heldBack}});
            return matrixError(http::status::forbidden, "M_FORBIDDEN", "Bad provisioning secret");
    }
    return std::nullopt;
}

}  // namespace mxbridge::detail
