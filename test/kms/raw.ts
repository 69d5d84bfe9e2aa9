import https from 'node:https';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** One HTTPS request to the KMS with nothing the SDK would add or fix. */
export function raw(
  base: string,
  ca: string,
  method: string,
  path: string,
  options: { token?: string; body?: string | Buffer; headers?: Record<string, string>; agent?: https.Agent } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${base}${path}`,
      {
        method,
        ca,
        ...(options.agent ? { agent: options.agent } : {}),
        headers: {
          'content-type': 'application/json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // leave the text as it is
          }
          resolve({ status: res.statusCode!, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
