import type { Tee } from './protocol';

/**
 * RCAR sessions, from /auth to the token. The store is an interface so replicas can share one
 * (a PostgreSQL store implements the same four operations); `MemorySessionStore` serves one
 * process. `spend` is the single-use step: it moves an authed session to spent atomically, so a
 * nonce is appraised at most once however many /attest requests race on it.
 */
export interface KbsSession {
  id: string;
  nonce: string;
  tee: Tee;
  /** Milliseconds since the epoch; fixed at /auth and never extended (trustee's rule). */
  expiresAt: number;
  state: 'authed' | 'spent' | 'attested';
  /** The token issued at /attest (state `attested`). */
  token?: string;
}

export interface SessionStore {
  create(session: KbsSession): Promise<void>;
  /** The live session, or undefined when unknown or expired. */
  get(id: string, now: number): Promise<KbsSession | undefined>;
  /** authed → spent; returns the session as it was before, or undefined when unknown or expired. */
  spend(id: string, now: number): Promise<KbsSession | undefined>;
  /** spent → attested with its token. */
  attested(id: string, token: string): Promise<void>;
  delete(id: string): Promise<void>;
  /** Forgets expired sessions. */
  sweep(now: number): Promise<void>;
}

/** Sessions in this process, at most `max`: past it, the oldest session is dropped to make room. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, KbsSession>();

  constructor(private readonly max: number) {}

  async create(session: KbsSession): Promise<void> {
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(session.id, { ...session });
  }

  async get(id: string, now: number): Promise<KbsSession | undefined> {
    const session = this.sessions.get(id);
    if (!session || session.expiresAt <= now) return undefined;
    return { ...session };
  }

  async spend(id: string, now: number): Promise<KbsSession | undefined> {
    const session = this.sessions.get(id);
    if (!session || session.expiresAt <= now) return undefined;
    const before = { ...session };
    if (session.state === 'authed') session.state = 'spent';
    return before;
  }

  async attested(id: string, token: string): Promise<void> {
    const session = this.sessions.get(id);
    if (session && session.state === 'spent') Object.assign(session, { state: 'attested', token });
  }

  async delete(id: string): Promise<void> {
    this.sessions.delete(id);
  }

  async sweep(now: number): Promise<void> {
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}
