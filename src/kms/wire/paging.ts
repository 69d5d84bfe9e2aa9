import type { Static } from '@sinclair/typebox';
import { decodeBase64Url, encodeBase64Url } from '../../lib/base64url';
import type { Page } from '../model';
import type { PageQuery } from './schemas';

const MAX_RESULTS = 25;

/** The page a checked list query asks for: `maxresults` (25 when absent) after the key its `$skiptoken` names. */
export function pageRequest(query: Static<typeof PageQuery>): { limit: number; after?: string } {
  const limit = query.maxresults === undefined ? MAX_RESULTS : Number(query.maxresults);
  if (query.$skiptoken === undefined) return { limit };
  // The schema admits only non-empty base64url here.
  return { limit, after: decodeBase64Url(query.$skiptoken)!.toString('utf8') };
}

/** `{value, nextLink}`: nextLink repeats the request's path and api-version with the continuation token. */
export function pageBody<T>(
  vaultUrl: string,
  path: string,
  query: Static<typeof PageQuery>,
  page: Page<T>,
  render: (item: T) => unknown,
  limit: number,
): { value: unknown[]; nextLink: string | null } {
  const next =
    page.next === undefined
      ? null
      : `${vaultUrl}${path}?${new URLSearchParams({ 'api-version': query['api-version'], maxresults: String(limit), $skiptoken: encodeBase64Url(Buffer.from(page.next)) })}`;
  return { value: page.items.map(render), nextLink: next };
}
