// CommonJS, callback style: (event, context, callback), the Node.js 0.10-era way
// many Lambda functions are still written.
"use strict";
const { DownstreamError } = require("genesys-sim"); // the helper resolves for require() too

exports.handler = function (event, context, callback) {
  setTimeout(() => callback(null, { via: "callback", id: event.id, named: new DownstreamError(503).status }), 20);
};

exports.fails = function (event, context, callback) {
  callback(new TypeError("bad record"));
};

exports.succeeds = function (event, context) {
  setImmediate(() => context.succeed({ via: "context.succeed" }));
  return undefined;
};

exports.answersTwice = function (event, context, callback) {
  callback(null, { first: true });
  callback(null, { second: true }); // only the first answer counts
};

exports.callsBackEarly = function (event, context, callback) {
  callback(null, { answered: "when the timer is done" }); // Lambda waits for the event loop
  setTimeout(() => console.log("work after the callback"), 300);
};

exports.doesNotWait = function (event, context, callback) {
  context.callbackWaitsForEmptyEventLoop = false;
  callback(null, { answered: "at once" });
  setTimeout(() => console.log("left for the next invocation"), 3000);
};
