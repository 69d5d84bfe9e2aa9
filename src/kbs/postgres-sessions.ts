import type { VerifierDatabase } from '../maa/service';
import type { Tee } from './protocol';
import type { KbsSession, SessionStore } from './sessions';

interface SessionRow {
  id: string;
  nonce: string;
  tee: string;
  expires_at: string;
  state: KbsSession['state'];
  token: string | null;
}

const COLUMNS = 'id, nonce, tee, expires_at, state, token';

function toSession(row: SessionRow): KbsSession {
  return { id: row.id, nonce: row.nonce, tee: row.tee as Tee, expiresAt: Number(row.expires_at), state: row.state, ...(row.token !== null ? { token: row.token } : {}) };
}

/**
 * RCAR sessions in PostgreSQL (the verifier's database, `skr kbs --store`), shared by every
 * replica of the broker: a nonce handed out by one replica's /auth is attested at another, and
 * `spend` is one statement that locks the row, so of two replicas attesting one session exactly
 * one sees it `authed`. Expiry is judged by the broker's clock, passed to each statement. The
 * table is bounded by the sweep: expired sessions go, then the oldest beyond `max`.
 */
export class PostgresSessionStore implements SessionStore {
  constructor(
    private readonly db: VerifierDatabase,
    private readonly max: number,
  ) {}

  async create(session: KbsSession): Promise<void> {
    await this.db.query({
      name: 'kbs_session_create',
      text: `INSERT INTO kbs_sessions (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
      values: [session.id, session.nonce, session.tee, session.expiresAt, session.state, session.token ?? null],
    });
  }

  async get(id: string, now: number): Promise<KbsSession | undefined> {
    const [row] = await this.db.query<SessionRow>({ name: 'kbs_session_get', text: `SELECT ${COLUMNS} FROM kbs_sessions WHERE id = $1 AND expires_at > $2`, values: [id, now] });
    return row ? toSession(row) : undefined;
  }

  async spend(id: string, now: number): Promise<KbsSession | undefined> {
    const [row] = await this.db.query<SessionRow>({
      name: 'kbs_session_spend',
      text: `WITH before AS (SELECT ${COLUMNS} FROM kbs_sessions WHERE id = $1 AND expires_at > $2 FOR UPDATE)
             UPDATE kbs_sessions s SET state = CASE WHEN b.state = 'authed' THEN 'spent' ELSE b.state END
             FROM before b WHERE s.id = b.id
             RETURNING b.id, b.nonce, b.tee, b.expires_at, b.state, b.token`,
      values: [id, now],
    });
    return row ? toSession(row) : undefined;
  }

  async attested(id: string, token: string): Promise<void> {
    await this.db.query({ name: 'kbs_session_attested', text: "UPDATE kbs_sessions SET state = 'attested', token = $2 WHERE id = $1 AND state = 'spent'", values: [id, token] });
  }

  async delete(id: string): Promise<void> {
    await this.db.query({ name: 'kbs_session_delete', text: 'DELETE FROM kbs_sessions WHERE id = $1', values: [id] });
  }

  async sweep(now: number): Promise<void> {
    await this.db.query({ name: 'kbs_session_sweep', text: 'DELETE FROM kbs_sessions WHERE expires_at <= $1', values: [now] });
    await this.db.query({
      name: 'kbs_session_bound',
      text: 'DELETE FROM kbs_sessions WHERE id IN (SELECT id FROM kbs_sessions ORDER BY expires_at DESC OFFSET $1)',
      values: [this.max],
    });
  }
}
