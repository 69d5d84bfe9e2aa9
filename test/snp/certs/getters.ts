import { createHttpGetter } from '../../../src/lib/http-getter';

/** The real client the services inject into the certificate sources, answering on the first attempt. */
export const noRetry = createHttpGetter({ retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 5, sleep: async () => undefined } });
/** The same client with the shared defaults, as the sidecar and verifier pass it. */
export const sharedDefaults = createHttpGetter();
