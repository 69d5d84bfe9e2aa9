import type { Pool, PoolClient } from 'pg';

/**
 * A connection taken from a pg pool for several statements, listened to while it is out: the
 * server ends its sessions with an error message (a restart, `pg_ctl stop -m fast`, a failover)
 * that the client emits as an 'error' event when no statement is waiting for it, and again when
 * the socket closes; unheard, that event would end the process. The pool listens only to the
 * connections it holds idle. `release` hands the connection back, or destroys it when it failed
 * (an error event, or `broken`), so no dead connection is reused. `onError` hears each event.
 */
export async function checkout(pool: Pool, onError: (error: Error) => void): Promise<{ client: PoolClient; release: (broken?: unknown) => void }> {
  const client = await pool.connect();
  let failed: Error | undefined;
  const listener = (error: Error) => {
    failed ??= error;
    onError(error);
  };
  client.on('error', listener);
  return {
    client,
    release: (broken) => {
      client.release(failed ?? (broken as Error | undefined));
      client.removeListener('error', listener);
    },
  };
}
