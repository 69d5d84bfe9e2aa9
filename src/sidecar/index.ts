/**
 * The sidecar role: the Express app sibling containers call, which orchestrates attester →
 * verifier → KMS and unwraps released keys inside the TEE. Its only public door.
 */
export { loadSidecarConfig, type SidecarConfig, type SidecarInputs } from './config';
export { startSidecar, type RunningSidecar, type SidecarOverrides } from './server';
export { TeeKeyHolder, type TeeKey, type TeeKeyOptions } from './tee-key';
export { attestTeeKey } from './tee-release';
export { decodeRuntimeData } from './runtime-data';
