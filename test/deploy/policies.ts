/** ccePolicy test vectors: a framework-delegating Rego policy and the public allow-all forms. */
export const REGO_POLICY = [
  'package policy',
  '',
  'api_version := "0.10.0"',
  'framework_version := "0.2.3"',
  '',
  'containers := []',
  'mount_device := data.framework.mount_device',
  'create_container := data.framework.create_container',
  '',
].join('\n');

const OPEN_DOOR_RULES = [
  'mount_device',
  'mount_overlay',
  'create_container',
  'unmount_device',
  'unmount_overlay',
  'exec_in_container',
  'exec_external',
  'shutdown_container',
  'signal_container_process',
  'plan9_mount',
  'plan9_unmount',
  'get_properties',
  'dump_stacks',
  'runtime_logging',
  'load_fragment',
  'scratch_mount',
  'scratch_unmount',
];
const EXTRA: Record<string, string> = {
  create_container: ', "env_list": null, "allow_stdio_access": true',
  exec_in_container: ', "env_list": null',
  exec_external: ', "env_list": null, "allow_stdio_access": true',
};

/** The open-door Rego that `--policy-type allow_all` style samples deploy (api_svn 0.10.0, env_list null). */
export const OPEN_DOOR_POLICY =
  'package policy\n\napi_svn := "0.10.0"\n\n' + OPEN_DOOR_RULES.map((rule) => `${rule} := {"allowed": true${EXTRA[rule] ?? ''}}${rule === 'unmount_device' ? ' ' : ''}`).join('\n') + '\n';

export const LEGACY_ALLOW_ALL = '{"allow_all": true, "containers": {"length": 0, "elements": null}}';

export const DEBUG_POLICY = `${REGO_POLICY}allow_dump_stacks := true\nallow_runtime_logging := true\n`;

export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
