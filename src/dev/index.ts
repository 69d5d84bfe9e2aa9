/** The all-in-one embedded stack behind `npm start` and `skr dev`: its only public door. */
export { defaultDevStateDir, startDevStack, type DevOptions, type Endpoints, type RunningStack } from './stack';
