import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertSources, findSecurityContextDir, readSecurityContext } from '../../../src/snp/certs';
import { fixture, vector } from './fixtures';

const thimJson = fixture('milan-v2-aci-thim', 'thim.json');
const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64');

describe('UVM security context', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'skr-secctx-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function aciDir(files: Record<string, string>): Promise<string> {
    const dir = join(root, 'security-context-1234');
    await mkdir(dir);
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    return dir;
  }

  it('finds ACI’s security-context-* directory and decodes its three files', async () => {
    const dir = await aciDir({
      'host-amd-cert-base64': b64(thimJson),
      'reference-info-base64': b64(Buffer.from([0xd2, 0x84, 0x01])),
      'security-policy-base64': `${b64('package policy\n')}\n`,
    });
    expect(await findSecurityContextDir({ searchRoot: root, env: {} })).toBe(dir);
    const context = await readSecurityContext({ searchRoot: root, env: {} });
    expect(context.dir).toBe(dir);
    expect(context.hostAmdCertificate?.tcbm).toBe('7308000000000003');
    expect(context.referenceInfo).toEqual(Buffer.from([0xd2, 0x84, 0x01]));
    expect(context.securityPolicy?.toString()).toBe('package policy\n');
  });

  it('prefers UVM_SECURITY_CONTEXT_DIR and falls back to the UVM_* variables for missing files', async () => {
    const dir = await aciDir({ 'reference-info-base64': b64('from-file') });
    const other = join(root, 'elsewhere');
    await mkdir(other);
    await writeFile(join(other, 'reference-info-base64'), b64('chosen'));
    const env = { UVM_SECURITY_CONTEXT_DIR: other, UVM_HOST_AMD_CERTIFICATE: b64(thimJson), UVM_SECURITY_POLICY: b64('p'), UVM_REFERENCE_INFO: b64('env') };
    const context = await readSecurityContext({ searchRoot: root, env });
    expect(context.dir).toBe(other);
    expect(context.dir).not.toBe(dir);
    expect(context.referenceInfo?.toString()).toBe('chosen');
    expect(context.hostAmdCertificate?.tcbm).toBe('7308000000000003');
    expect(context.securityPolicy?.toString()).toBe('p');
  });

  it('works from the environment alone', async () => {
    const context = await readSecurityContext({ searchRoot: root, env: { UVM_HOST_AMD_CERTIFICATE: b64(thimJson) } });
    expect(context.dir).toBeUndefined();
    expect(context.hostAmdCertificate?.tcbm).toBe('7308000000000003');
    expect(context.referenceInfo).toBeUndefined();
  });

  it('refuses a file that is not base64', async () => {
    await aciDir({ 'host-amd-cert-base64': '{not base64}' });
    await expect(readSecurityContext({ searchRoot: root, env: {} })).rejects.toThrow(/host-amd-cert-base64 is not base64/);
  });

  it('serves the VCEK, the THIM JSON and the UVM endorsements to the sidecar', async () => {
    await aciDir({ 'host-amd-cert-base64': b64(thimJson), 'reference-info-base64': b64('cose') });
    const sources = createCertSources({ securityContext: { searchRoot: root, env: {} } });
    const { request, vek } = vector('milan-v2-aci-thim', 'Milan');
    const fetched = await sources.fetchVek(request);
    expect(Buffer.from(fetched.vek as Uint8Array).equals(vek)).toBe(true);
    expect(fetched.chain).toHaveLength(2);
    expect((await sources.hostAmdCertificate())?.tcbm).toBe('7308000000000003');
    expect((await sources.uvmEndorsements())?.toString()).toBe('cose');
  });

  it('explains an empty context', async () => {
    const fetcher = createCertSources({ securityContext: { searchRoot: root, env: {} } }).fetchVek;
    await expect(fetcher(vector('milan-v2-aci-thim', 'Milan').request)).rejects.toThrow(/security-context: no host-amd-cert-base64 in any security context directory and no UVM_HOST_AMD_CERTIFICATE/);
  });
});
