/** Long-running commands stop cleanly on SIGTERM (containers) and SIGINT (a terminal). */
export function untilSignal(stop: () => Promise<void>): void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`skr: ${signal}, stopping\n`);
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
