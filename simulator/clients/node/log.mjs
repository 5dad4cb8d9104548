// The host's own log lines, in the instance log beside the handler's output
// (the same shape as the Python host's: time, logger[pid], message).
export function log(message) {
  const time = new Date().toISOString().replace("T", " ").replace("Z", "");
  process.stderr.write(`${time} genesys_sim.consumer[${process.pid}] ${message}\n`);
}

export function describeError(err) {
  return err instanceof Error ? `${err.name}: ${err.message}` : `${typeof err}: ${String(err)}`;
}
