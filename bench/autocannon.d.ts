/**
 * The part of autocannon's API the HTTP benchmark uses (autocannon 8 ships no type declarations and no
 * `@types/autocannon` is installed). See https://github.com/mcollina/autocannon#api.
 */
declare module 'autocannon' {
  /** One request template; `setupRequest` is called before every request and may replace any field. */
  export interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
  }
  /** Options of one run. */
  export interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
    pipelining?: number;
    requests?: AutocannonRequest[];
  }
  /** An hdr histogram summary (`average`, percentiles). */
  export interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    total: number;
  }
  /** The result of a run. */
  export interface AutocannonResult {
    requests: Histogram;
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    duration: number;
  }
  /** A running load: resolves to the result, and emits `response` with each answer's latency in milliseconds. */
  export interface AutocannonRun extends PromiseLike<AutocannonResult> {
    on(
      event: 'response',
      listener: (client: unknown, statusCode: number, bytes: number, latencyMs: number) => void,
    ): this;
  }
  function autocannon(options: AutocannonOptions): AutocannonRun;
  export default autocannon;
}
