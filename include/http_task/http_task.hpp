// SPDX-License-Identifier: MIT
// http_task: call HTTP webhooks (the Celery "HTTP callback task" protocol) as futures.
// The one header to include. Reading order, as a call travels:
//   url.hpp, params.hpp, request.hpp          the call: URL, arguments, options
//   client.hpp, client_options.hpp            the loop: epoll over curl multi, one thread
//   retry_policy.hpp, tls_options.hpp,
//   address_guard.hpp, request_signer.hpp,
//   proxy_options.hpp                         what a Client does about failures and trust
//   rate_limit.hpp, dead_letter.hpp           per-origin limits, calls given up (per-origin.md)
//   dispatcher.hpp, json.hpp                  the decoder: answer -> retval or error
//   async_result.hpp, error.hpp               the future and what it can throw
//   executor.hpp, when_all.hpp, coroutine.hpp where results continue
//   webhook.hpp                               the other side: answers for C++ webhooks
// For headers that only name the types: fwd.hpp.
// Not included: standard_webhooks.hpp (request signing; needs libcrypto), testing.hpp
// (an in-process webhook server for tests).
#pragma once

#include <http_task/address_guard.hpp>
#include <http_task/async_result.hpp>
#include <http_task/circuit_breaker.hpp>
#include <http_task/client.hpp>
#include <http_task/client_options.hpp>
#include <http_task/coroutine.hpp>
#include <http_task/dead_letter.hpp>
#include <http_task/dispatcher.hpp>
#include <http_task/error.hpp>
#include <http_task/executor.hpp>
#include <http_task/fwd.hpp>  // first declarations must agree with the definitions
#include <http_task/json.hpp>
#include <http_task/origin_stats.hpp>
#include <http_task/params.hpp>
#include <http_task/proxy_options.hpp>
#include <http_task/rate_limit.hpp>
#include <http_task/request.hpp>
#include <http_task/request_signer.hpp>
#include <http_task/retry_policy.hpp>
#include <http_task/tls_options.hpp>
#include <http_task/url.hpp>
#include <http_task/version.hpp>
#include <http_task/webhook.hpp>
#include <http_task/when_all.hpp>

/// \namespace http_task
/// The contract: calls (URL, Client::dispatch()), their results (AsyncResult) and errors
/// (Error), the Client and its options, executors. The machinery lives in
/// `http_task::detail` and is not part of the API.
