// lambda-sqs: the Lambda SQS event source, as simulator/clients/poll.py runs it
// for Python handlers: one invocation per received batch with {"Records": [...]};
// a failed invocation leaves the whole batch on the queue; {"batchItemFailures":
// [...]} leaves only the listed messages (an unknown identifier fails the batch).
import { createHash } from "node:crypto";
import { TIMEOUT_EXIT } from "./faults.mjs";
import { describeError, log } from "./log.mjs";

export function sqsRecord(m, { queueArn, region }) {
  const attrs = m.Attributes || {};
  const kept = {};
  for (const name of ["MessageGroupId", "MessageDeduplicationId", "SequenceNumber"]) {
    if (name in attrs) kept[name] = attrs[name];
  }
  return {
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: m.Body,
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? "1",
      SentTimestamp: attrs.SentTimestamp ?? "0",
      SenderId: attrs.SenderId ?? "AIDAIENQZJOLO23YVJ4VO",
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? "0",
      ...kept,
    },
    messageAttributes: m.MessageAttributes || {},
    md5OfBody: m.MD5OfBody || createHash("md5").update(m.Body, "utf8").digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** The message ids to keep on the queue, or null when the whole batch failed. */
export function failedIds(outcome, messages) {
  if ("error" in outcome || "timedOut" in outcome) return null;
  const failures = outcome.result?.batchItemFailures;
  if (!failures || (Array.isArray(failures) && failures.length === 0)) return new Set();
  if (!Array.isArray(failures)) return null; // not a partial batch response: Lambda fails it all
  const ids = new Set(failures.map((f) => f?.itemIdentifier));
  const known = new Set(messages.map((m) => m.MessageId));
  for (const id of ids) if (!known.has(id)) return null;
  return ids;
}

export class PollLoop {
  constructor({ sdk, queueUrl, queueArn, region, endpoint, batchSize, waitTimeS, faults, receipts, runtime,
    handler }) {
    this.sdk = sdk;
    this.sqs = new sdk.SQSClient({ region, endpoint: endpoint || undefined });
    Object.assign(this, { queueUrl, queueArn, region, batchSize, waitTimeS, faults, receipts, runtime, handler });
    this.stopping = false;
    this.polling = null;
  }

  stop() {
    this.stopping = true;
    this.polling?.abort();
  }

  async run() {
    while (!this.stopping) {
      const messages = await this.receive();
      if (messages.length) await this.dispatch(messages);
    }
  }

  async receive() {
    this.polling = new AbortController();
    let response;
    try {
      response = await this.sqs.send(new this.sdk.ReceiveMessageCommand({
        QueueUrl: this.queueUrl, MaxNumberOfMessages: this.batchSize, WaitTimeSeconds: this.waitTimeS,
        AttributeNames: ["All"], MessageAttributeNames: ["All"],
      }), { abortSignal: this.polling.signal });
    } catch (err) {
      if (this.stopping) return [];
      throw err;
    } finally {
      this.polling = null;
    }
    const messages = response.Messages || [];
    if (messages.length) {
      this.receipts.received(messages.map((m) => [
        m.MessageId, m.Body, Number.parseInt(m.Attributes?.ApproximateReceiveCount ?? "1", 10)]));
      this.faults.afterReceive(messages.length);
    }
    return messages;
  }

  async dispatch(messages) {
    const event = { Records: messages.map((m) => sqsRecord(m, { queueArn: this.queueArn, region: this.region })) };
    await this.faults.beforeHandle();
    const outcome = await this.runtime.invoke(this.handler, event);
    if (outcome.timedOut) {
      log(`handler timed out after ${this.runtime.timeoutS} s (batch of ${messages.length} left on the queue); `
        + "the execution environment is thrown away");
      process.exit(TIMEOUT_EXIT);
    }
    const failed = failedIds(outcome, messages);
    if (failed === null) {
      log("error" in outcome
        ? `handler failed: ${describeError(outcome.error)} (batch of ${messages.length} left on the queue)`
        : "batchItemFailures is not a list of known message ids; the whole batch fails");
      return;
    }
    this.faults.midBatch(); // the handler finished; the deletes have not happened
    await this.delete(messages.filter((m) => !failed.has(m.MessageId)));
  }

  async delete(messages) {
    for (let start = 0; start < messages.length; start += 10) {
      const chunk = messages.slice(start, start + 10);
      await this.sqs.send(new this.sdk.DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }));
    }
  }
}
