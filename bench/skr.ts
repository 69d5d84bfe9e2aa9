import { main } from '../src/cli/main';

/** `skr` compiled with the benchmark, so the services it starts run this checkout's source, not a bundle built earlier. */
void main(process.argv.slice(2));
