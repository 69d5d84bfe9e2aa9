/** The key broker role: a trustee-compatible KBS (protocol 0.4.0) and the client the sidecar runs. */
export { startKbs, type KbsOptions, type RunningKbs, DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_TTL_SECONDS, DEFAULT_TOKEN_LIFETIME_SECONDS } from './server';
export { KbsClient, type KbsClientOptions, type TeeKeyAlgorithm } from './client';
export { KeyBroker, type BrokerOptions, type ResourceCredentials } from './broker';
export { inProcessAppraiser, remoteAppraiser, type EvidenceAppraiser, type RemoteVerifierOptions } from './appraiser';
export { SecretsBackend, DirectoryBackend, BASE64_CONTENT_TYPE, type ResourceBackend } from './backends';
export { MemorySessionStore, type KbsSession, type SessionStore } from './sessions';
export { PostgresSessionStore } from './postgres-sessions';
export { secretNameOf, resourcePathOf, parseResourcePath, MAX_RESOURCE_SEGMENT, type ResourcePath } from './resource-path';
export { KBS_PROTOCOL_VERSION, SESSION_COOKIE } from './protocol';
export { encryptToTee, decryptFromKbs, type FlattenedJwe } from './jwe';
export { canonicalJson } from './canonical-json';
export { expectedReportData, runtimeDataDigest } from './report-data';
export { parseSnpEvidence, snpEvidenceOf } from './snp-evidence';
