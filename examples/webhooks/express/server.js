#!/usr/bin/env node
// The multiply webhook in Node.js Express, for tests and demos. Start it with serve.sh,
// which installs Express (npm ci) on first use.
//
//   node server.js [--host 127.0.0.1] [--port 0] [--port-file PATH] [--parent-pid N]
//
// --port 0 picks a free port; --port-file gets it written atomically (PATH.tmp, then
// renamed), otherwise it is printed on stdout. --parent-pid N: exit once process N is
// gone (polled every 0.5 s). SIGTERM/SIGINT exit promptly.
"use strict";

const fs = require("node:fs");
const { parseArgs } = require("node:util");
const express = require("express");

const MOON_REASON = "Invalid moon alignment: \u263e \u2260 \u2600 (\u{1f319})";
const MAX_LARGE = 64 * 1024 * 1024;
const INTEGER = /^[+-]?[0-9]+$/;

const app = express();
app.disable("x-powered-by");
app.disable("etag");
// Form bodies only (Content-Type application/x-www-form-urlencoded); a body without
// that Content-Type is not parsed. The default size limit (100 kB) would answer 413 to
// large argument lists.
app.use(express.urlencoded({ extended: false, limit: "16mb", parameterLimit: 100000 }));

// The call's arguments as http_task sends them: the query for GET, the form body for
// POST. Both parsers give an array for a repeated name: keep its last value, as the
// other servers do.
function callArgs(req) {
  const params = (req.method === "GET" ? req.query : req.body) || {};
  const args = {};
  for (const [name, value] of Object.entries(params)) {
    args[name] = Array.isArray(value) ? value[value.length - 1] : value;
  }
  return args;
}

// [BigInt, null] or [null, reason]: bad input is a failure, not a 500.
function integerArgument(args, name) {
  const raw = args[name];
  if (raw === undefined) return [null, `missing argument ${name}`];
  if (typeof raw !== "string" || !INTEGER.test(raw)) {
    return [null, `argument ${name} is not an integer`];
  }
  return [BigInt(raw), null];
}

const success = (res, retval) => res.json({ status: "success", retval });
const failure = (res, reason) => res.json({ status: "failure", reason });

function multiply(req, res) {
  const args = callArgs(req);
  let [x, reason] = integerArgument(args, "x");
  let y = null;
  if (!reason) [y, reason] = integerArgument(args, "y");
  if (reason) return failure(res, reason);
  // JSON numbers are doubles here: past 2^53 a product would be silently rounded.
  const product = x * y;
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (product > limit || product < -limit) return failure(res, "product out of range");
  return success(res, Number(product));
}

function echoArgs(req, res) {
  return success(res, callArgs(req));
}

function moonFailure(req, res) {
  return failure(res, MOON_REASON);
}

function large(req, res) {
  let [n, reason] = integerArgument(callArgs(req), "n");
  if (!reason && (n < 0n || n > BigInt(MAX_LARGE))) reason = "argument n is out of range";
  if (reason) return failure(res, reason);
  const count = Number(n);
  return success(res, "0123456789".repeat(Math.floor(count / 10) + 1).slice(0, count));
}

// Express routing is not strict by default: "/multiply/" is served too, no redirect.
for (const [path, handler] of [
  ["/multiply", multiply],
  ["/echo_args", echoArgs],
  ["/fail", moonFailure],
  ["/large", large],
]) {
  app.route(path).get(handler).post(handler);
}

// The same multiply for JSON bodies, as Express receivers usually take them: the route's
// own express.json() parses an application/json body (http_task's URL::post_json);
// x and y are JSON integers.
app.post("/multiply-json", express.json({ limit: "1mb" }), (req, res) => {
  const body = req.body || {};
  for (const name of ["x", "y"]) {
    if (!Number.isSafeInteger(body[name])) return failure(res, `argument ${name} is not an integer`);
  }
  const product = BigInt(body.x) * BigInt(body.y);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (product > limit || product < -limit) return failure(res, "product out of range");
  return success(res, Number(product));
});

function writePortFile(path, port) {
  const tmp = `${path}.tmp`;
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, path);
}

function parentAlive(pid, originalPpid) {
  // Reparenting also means the parent died (it may linger as a zombie).
  if (pid === originalPpid && process.ppid !== originalPpid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

function main() {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
      "port-file": { type: "string" },
      "parent-pid": { type: "string" },
    },
  });
  // Open keep-alive connections would delay a graceful close: leave at once.
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));

  const server = app.listen(Number(values.port), values.host, () => {
    const { port } = server.address();
    if (values["port-file"]) writePortFile(values["port-file"], port);
    else console.log(port);
  });
  server.on("error", (err) => {
    console.error(err.message);
    process.exit(1);
  });

  if (values["parent-pid"]) {
    const parentPid = Number(values["parent-pid"]);
    const originalPpid = process.ppid;
    setInterval(() => {
      if (!parentAlive(parentPid, originalPpid)) process.exit(0);
    }, 500);
  }
}

main();
