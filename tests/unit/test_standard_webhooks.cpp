// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/standard_webhooks.hpp>

using http_task::StandardWebhooksSigner;

namespace {
// The published test vector of the Standard Webhooks reference libraries.
const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const char* kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const char* kTimestamp = "1614265330";
const char* kPayload = "{\"test\": 2432232314}";
const char* kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
}  // namespace

TEST_CASE("signatures match the published Standard Webhooks vector", "[signing]") {
  auto key = StandardWebhooksSigner::decode_secret(kSecret);
  CHECK("v1," + StandardWebhooksSigner::signature(key, kId, kTimestamp, kPayload) == kSignature);
  CHECK(StandardWebhooksSigner::verify(kSecret, kId, kTimestamp, kPayload, kSignature));
  // The same with the last character changed must fail.
  CHECK_FALSE(StandardWebhooksSigner::verify(kSecret, kId, kTimestamp, kPayload,
                                             "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="));
  CHECK_FALSE(StandardWebhooksSigner::verify(kSecret, kId, "1614265331", kPayload, kSignature));
  // Several space-separated signatures: any one may match.
  CHECK(StandardWebhooksSigner::verify(kSecret, kId, kTimestamp, kPayload,
                                       std::string("v1,bm9wZQ== ") + kSignature));
}

TEST_CASE("the signer adds the three headers, one signature per secret", "[signing]") {
  StandardWebhooksSigner signer({kSecret, "whsec_c2Vjb25kIHNlY3JldCBrZXkgYnl0ZXM="});
  http_task::SigningInput in;
  in.id = kId;
  in.body = kPayload;
  in.now = std::chrono::system_clock::time_point(std::chrono::seconds(1614265330));
  auto headers = signer.sign(in);
  REQUIRE(headers.size() == 3);
  CHECK(headers[0] == std::make_pair(std::string("webhook-id"), std::string(kId)));
  CHECK(headers[1].second == kTimestamp);
  CHECK(headers[2].second.rfind(std::string(kSignature) + " v1,", 0) == 0);
}

TEST_CASE("bad secrets are refused when the signer is made", "[signing]") {
  CHECK_THROWS_AS(StandardWebhooksSigner("whsec_not base64!"), http_task::Error);
  CHECK_THROWS_AS(StandardWebhooksSigner("whsec_"), http_task::Error);
  CHECK_NOTHROW(StandardWebhooksSigner("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
}
