// The effect helper for Node.js consumers under genesys-sim: the same call the
// Python consumers have (simulator.clients.api.report_effect). It is a plain
// POST to $GENESYS_SIM_SINK_URL/effects; a consumer may as well call fetch itself.
"use strict";

class DownstreamError extends Error {
  constructor(status, text) {
    super(`downstream answered HTTP ${status} ${text || ""}`.trim());
    this.name = "DownstreamError";
    this.status = status;
  }
}

/**
 * Apply one business effect downstream. `event` is the EventBridge event as
 * received (or null, with `correlationId`). Effects with the same `idempotencyKey`
 * are applied once; `upsert` marks an effect that writes its entity's state.
 * Rejects with DownstreamError when the sink does not answer 2xx.
 */
async function reportEffect(event, { correlationId, idempotencyKey, upsert = false } = {}) {
  const sink = process.env.GENESYS_SIM_SINK_URL;
  if (!sink) throw new Error("GENESYS_SIM_SINK_URL is not set: run the consumer under genesys-sim");
  if (event == null && correlationId == null) {
    throw new TypeError("reportEffect() needs the event or its correlationId");
  }
  const payload = {};
  if (event != null) payload.event = event;
  if (correlationId != null) payload.correlation_id = correlationId;
  if (idempotencyKey != null) payload.idempotency_key = idempotencyKey;
  if (upsert) payload.upsert = true;
  payload.consumer = process.env.GENESYS_SIM_CONSUMER || "consumer";
  payload.instance = Number.parseInt(process.env.GENESYS_SIM_INSTANCE || "0", 10);
  const response = await fetch(`${sink.replace(/\/+$/, "")}/effects`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status < 200 || response.status >= 300) {
    throw new DownstreamError(response.status, (await response.text()).slice(0, 200));
  }
}

/** A TTL stated in real-world seconds, shrunk by the scenario clock. */
function ttl(scenarioSeconds) {
  return scenarioSeconds / Number(process.env.GENESYS_SIM_TIME_SCALE || "1");
}

/** `key` in this run's namespace (for keys and table names in shared stores). */
function key(name) {
  const namespace = process.env.GENESYS_SIM_NAMESPACE || "";
  return namespace ? `${namespace}:${name}` : name;
}

module.exports = { DownstreamError, key, reportEffect, ttl };
