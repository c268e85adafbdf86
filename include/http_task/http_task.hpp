// http_task: call HTTP webhooks (the Celery "HTTP callback task" protocol) as futures.
// The one header to include. Reading order, as a call travels:
//   url.hpp, params.hpp, request.hpp   the call: URL, arguments, options
//   client.hpp, client_options.hpp     the loop: one curl multi handle, one thread
//   dispatcher.hpp, json.hpp           the decoder: answer -> retval or error
//   async_result.hpp, error.hpp        the future and what it can throw
#pragma once

#include <http_task/version.hpp>
#include <http_task/error.hpp>
#include <http_task/json.hpp>
#include <http_task/params.hpp>
#include <http_task/request.hpp>
#include <http_task/dispatcher.hpp>
#include <http_task/client_options.hpp>
#include <http_task/executor.hpp>
#include <http_task/async_result.hpp>
#include <http_task/when_all.hpp>
#include <http_task/coroutine.hpp>
#include <http_task/client.hpp>
#include <http_task/url.hpp>
#include <http_task/webhook.hpp>
