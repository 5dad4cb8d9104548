/** The sink did not answer 2xx: the effect was not applied. */
export declare class DownstreamError extends Error {
  readonly status: number;
  constructor(status: number, text?: string);
}

export interface EffectOptions {
  /** Instead of the event: its detail.metadata.CorrelationId. */
  correlationId?: string;
  /** Effects with the same key are applied once, as by an idempotent downstream API. */
  idempotencyKey?: string;
  /** The effect writes its entity's state (scored by the final-state probe). */
  upsert?: boolean;
}

/** Apply one business effect downstream (POST $GENESYS_SIM_SINK_URL/effects). */
export declare function reportEffect(event: unknown | null, options?: EffectOptions): Promise<void>;

/** A TTL stated in real-world seconds, shrunk by the scenario clock (GENESYS_SIM_TIME_SCALE). */
export declare function ttl(scenarioSeconds: number): number;

/** `name` in this run's namespace (GENESYS_SIM_NAMESPACE). */
export declare function key(name: string): string;
