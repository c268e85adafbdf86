// SPDX-License-Identifier: MIT
/// \file
/// Declarations of the public types, for headers that only name them (a member pointer, a
/// parameter passed by reference): including this instead of http_task.hpp keeps libcurl,
/// RapidJSON and the engine out of those translation units. The .cpp that calls a webhook
/// includes http_task.hpp (or the header of the type it uses).
#pragma once

namespace http_task {
inline namespace v1 {

// The call
class URL;
class Params;
class ParamValue;
struct Request;
struct CallOptions;
class Dispatcher;
struct Response;

// The loop and its options
class Client;
struct ClientOptions;
struct CallRecord;
struct RetryPolicy;
struct TlsOptions;
struct ProxyOptions;
struct AddressGuard;
class RequestSigner;
struct SigningInput;

// The decoder (JsonConverter's second parameter defaults to void in json.hpp)
class Json;
template <class T, class Enable>
struct JsonConverter;

// The future and where it continues
template <class T>
class AsyncResult;
class Job;
class Executor;

// What a call can end with
class Error;
class RemoteExecuteError;
class InvalidResponseError;
class UnknownStatusError;
class HttpError;
class TransportError;
class TimeoutError;
class BlockedAddressError;
class CancelledError;
class RequestError;

}  // namespace v1
}  // namespace http_task
