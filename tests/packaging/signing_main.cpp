// SPDX-License-Identifier: MIT
// The consumer program for http_task::signing: signs an attempt with the Standard Webhooks
// signer and verifies the signature, offline. Links only if the package's signing target
// brings libcrypto along.
#include <http_task/standard_webhooks.hpp>

#include <chrono>
#include <cstdio>
#include <string>

int main() {
  const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  http_task::StandardWebhooksSigner signer(secret);
  http_task::SigningInput input;
  input.id = "msg_1";
  input.method = "POST";
  input.url = "http://127.0.0.1/hook";
  input.body = "x=1";
  input.now = std::chrono::system_clock::now();
  std::string timestamp, signature;
  for (const auto& [name, value] : signer.sign(input)) {
    if (name == "webhook-timestamp") timestamp = value;
    if (name == "webhook-signature") signature = value;
  }
  if (!http_task::StandardWebhooksSigner::verify(secret, input.id, timestamp, input.body,
                                                 signature))
    return 1;
  std::printf("http_task::signing: signed and verified\n");
  return 0;
}
