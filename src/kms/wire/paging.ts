import type { Request } from 'express';
import { KmsBadParameter } from '../../errors';
import { decodeBase64Url, encodeBase64Url } from '../../lib/base64url';
import type { Page } from '../model';

const MAX_RESULTS = 25;

/** `maxresults` (1..25, Key Vault's bounds) and the opaque `$skiptoken` of a list request. */
export function pageRequest(req: Request): { limit: number; after?: string } {
  const raw = req.query.maxresults;
  let limit = MAX_RESULTS;
  if (raw !== undefined) {
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_RESULTS) throw new KmsBadParameter(`maxresults must be an integer 1..${MAX_RESULTS}`);
    limit = Number(raw);
  }
  const token = req.query.$skiptoken;
  if (token === undefined) return { limit };
  const decoded = typeof token === 'string' ? decodeBase64Url(token) : undefined;
  if (!decoded) throw new KmsBadParameter('$skiptoken is not valid');
  return { limit, after: decoded.toString('utf8') };
}

/** `{value, nextLink}`: nextLink repeats the request's path and api-version with the continuation token. */
export function pageBody<T>(vaultUrl: string, req: Request, page: Page<T>, render: (item: T) => unknown, limit: number): { value: unknown[]; nextLink: string | null } {
  const next = page.next === undefined
    ? null
    : `${vaultUrl}${req.path}?${new URLSearchParams({ 'api-version': String(req.query['api-version']), maxresults: String(limit), $skiptoken: encodeBase64Url(Buffer.from(page.next)) })}`;
  return { value: page.items.map(render), nextLink: next };
}
