/** Asks `probe` until it answers true or `boundMs` has passed (every `everyMs`); whether it did. */
export async function within(boundMs: number, probe: () => Promise<boolean> | boolean, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
