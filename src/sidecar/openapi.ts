import { openApiDocument } from '../lib/openapi';
import { SIDECAR_ROUTES, SidecarError } from './routes';

/** The sidecar's API as OpenAPI 3.1, served at /openapi.json: built from the schemas that validate its requests. */
export const SIDECAR_OPENAPI = openApiDocument(
  { title: 'skr secure key release sidecar', version: '1.0.0', description: "Drop-in for Microsoft's confidential-sidecar-containers SKR API." },
  Object.values(SIDECAR_ROUTES),
  SidecarError,
);
