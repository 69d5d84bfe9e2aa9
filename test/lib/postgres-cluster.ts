import { postgresProblem } from './postgres-server';

export { freePort, POSTGRES_SETUP_TIMEOUT_MS, postgresAvailable, startPostgresCluster, type PostgresCluster } from './postgres-server';

/** describe() for suites that need PostgreSQL: skipped where it is absent, but failed under CI, where it must be. */
export function describePostgres(name: string, body: () => void): void {
  const problem = postgresProblem();
  if (!problem) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('has PostgreSQL available', () => {
        throw new Error(`CI needs PostgreSQL, but ${problem}`);
      });
    });
  } else {
    describe.skip(`${name} (no PostgreSQL: ${problem})`, body);
  }
}
