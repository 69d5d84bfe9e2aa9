import http from 'node:http';
import https from 'node:https';

/**
 * A small closed-loop load generator for loopback HTTP services: `concurrency` callers, each
 * sending its next request as soon as the previous answer is read, over keep-alive sockets.
 * Bounded both by request count and by time, so a stalled server cannot hang a run.
 */
export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  /** The same body every time, or the body of the i-th request. */
  body?: string | ((i: number) => string);
  concurrency: number;
  /** Stop after this many requests in total. */
  requests: number;
  /** Or after this long, whichever comes first. */
  maxDurationMs: number;
  /** Trusted CA (PEM) for an https URL. */
  ca?: string;
  /** Sees every answer's status and body (bodies are only read when this is given). */
  inspect?: (status: number, body: Buffer) => void;
}

export interface LoadResult {
  requests: number;
  /** Answers other than 2xx, and transport failures. */
  errors: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function once(agent: http.Agent, url: URL, method: string, body: Buffer | undefined, inspect: LoadOptions['inspect']): Promise<number> {
  return new Promise((resolve) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { agent, method, headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      if (inspect) res.on('data', (c: Buffer) => chunks.push(c));
      else res.resume();
      res.on('end', () => {
        inspect?.(res.statusCode ?? 0, Buffer.concat(chunks));
        resolve(res.statusCode ?? 0);
      });
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const agentOptions = { keepAlive: true, maxSockets: options.concurrency };
  const agent = url.protocol === 'https:' ? new https.Agent({ ...agentOptions, ca: options.ca }) : new http.Agent(agentOptions);
  const fixed = typeof options.body === 'string' ? Buffer.from(options.body) : undefined;
  const bodyFor = typeof options.body === 'function' ? options.body : undefined;
  const method = options.method ?? (options.body !== undefined ? 'POST' : 'GET');
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let issued = 0;
  const started = performance.now();
  const deadline = started + options.maxDurationMs;
  const caller = async () => {
    while (issued < options.requests && performance.now() < deadline) {
      const body = bodyFor ? Buffer.from(bodyFor(issued)) : fixed;
      issued++;
      const t0 = performance.now();
      const status = await once(agent, url, method, body, options.inspect);
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, caller));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const errors = Object.entries(statuses).reduce((n, [s, count]) => (Number(s) >= 200 && Number(s) < 300 ? n : n + count), 0);
  return { requests: latencies.length, errors, statuses, elapsedMs, rps: (latencies.length / elapsedMs) * 1000, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}
