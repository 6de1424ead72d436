// The trailing gRPC metadata of a failed Executor.Execute, beside its status code and message: what the gateway
// needs to answer the client (see proto/moma/v1/executor.proto). One definition for the executor that writes them
// and the gateway that reads them.
export const ExecutorErrorMetadata = {
  /** The HTTP status to answer with: a provider's refusal (400–499), or 502 after a provider's 5xx. */
  upstreamStatus: 'moma-upstream-status',
  /** When to come back, in whole seconds (the providers' Retry-After). */
  retryAfter: 'moma-retry-after',
  /** JSON (UTF-8) list of {target, provider, outcome}, one per attempt; binary because model ids need not be ASCII. */
  attempts: 'moma-attempts-bin',
} as const;
