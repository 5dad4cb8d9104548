// What an instance was handed, one JSON line per receive as it happens
// (simulator/clients/receipts.py writes the same lines for Python instances).
import { openSync, writeSync } from "node:fs";

/** CLOCK_MONOTONIC in seconds: the clock of the ledger's t0 (Python's time.monotonic()). */
export function monotonic() {
  return Number(process.hrtime.bigint() / 1000n) / 1e6;
}

export function envelopeIds(body) {
  let event;
  try {
    event = JSON.parse(body);
  } catch {
    return [null, null];
  }
  if (event === null || typeof event !== "object" || Array.isArray(event)) return [null, null];
  const detail = event.detail;
  const metadata = detail && typeof detail === "object" && !Array.isArray(detail) ? detail.metadata : null;
  const correlationId = metadata && typeof metadata === "object" ? metadata.CorrelationId : null;
  return [typeof event.id === "string" ? event.id : null,
    typeof correlationId === "string" ? correlationId : null];
}

export class ReceiptLog {
  constructor(path, { consumer, instance, t0 }) {
    this.consumer = consumer;
    this.instance = instance;
    this.t0 = t0;
    this.fd = path ? openSync(path, "a") : null;
  }

  /** items: [message id or null, body, receive count] */
  received(items) {
    if (this.fd === null) return;
    const at = monotonic() - this.t0;
    const lines = items.map(([messageId, body, count]) => {
      const [envelopeId, correlationId] = envelopeIds(body);
      return JSON.stringify({
        consumer: this.consumer, instance: this.instance, at, message_id: messageId,
        envelope_id: envelopeId, correlation_id: correlationId, receive_count: count,
      });
    });
    writeSync(this.fd, `${lines.join("\n")}\n`);
  }
}
