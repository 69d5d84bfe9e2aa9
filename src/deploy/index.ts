/** Deployment tooling: ARM template validation, ccePolicy host_data, release policies. */
export { parseParametersFile } from './arm/parameters-file';
export type { DeploymentScope } from './arm/functions';
export { ALLOW_ALL_HOSTDATA } from './allow-all';
export { classifyCcePolicy, decodeCcePolicyBase64, type CcePolicy } from './cce-policy';
export type { Finding } from './finding';
export { createReleasePolicy, type ReleasePolicy } from './release-policy/create';
export { lintReleasePolicy, type ReleasePolicyLint } from './release-policy/lint';
export { ccePolicyHostdataOfTemplate } from './template-cce-policy';
export { validateTemplate, type TemplateReport, type ValidateTemplateOptions } from './validate-template';
