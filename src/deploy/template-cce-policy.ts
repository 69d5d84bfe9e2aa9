import { InvalidArgument } from '../errors';
import type { ValidateTemplateOptions } from './validate-template';
import { validateTemplate } from './validate-template';

/**
 * The ccePolicy of the template's one container group, after evaluating parameters: what
 * `skr policy hostdata --template` hashes. A policy left to deployment cannot be hashed.
 */
export function ccePolicyHostdataOfTemplate(template: unknown, options: ValidateTemplateOptions): { hostdata: string; allowAll: boolean } {
  const report = validateTemplate(template, options);
  const groups = report.containerGroups;
  if (groups.length !== 1) throw new InvalidArgument(`the template has ${groups.length} container groups; expected exactly one`);
  const policy = groups[0].ccePolicy;
  if (policy.source === 'missing') throw new InvalidArgument('the container group has no ccePolicy');
  if (policy.source === 'deployment') {
    throw new InvalidArgument(`ccePolicy is ${policy.expression}, which has no value here: pass --parameters with a ccePolicy value, or --cce-policy`);
  }
  if (policy.hostdata === undefined) throw new InvalidArgument('ccePolicy is not standard base64');
  return { hostdata: policy.hostdata, allowAll: policy.allowAll === true };
}
