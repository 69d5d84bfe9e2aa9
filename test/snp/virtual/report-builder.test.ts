import { generateKeyPairSync, verify } from 'node:crypto';
import { decodeTcb, parseReport, REPORT_SIZE, SIGNATURE_OFFSET, SigningKey, signatureToP1363, signedBytes } from '../../../src/snp/abi';
import { buildReport, signReport, type ReportSpec, type ReportVersion } from '../../../src/snp/virtual';
import { VECTOR_EXPECTATIONS } from '../vector-expectations';
import { loadVector, VECTOR_IDS } from '../vectors';

const vcek = generateKeyPairSync('ec', { namedCurve: 'P-384' });

describe('report builder', () => {
  // The strongest check of byte-exactness: every genuine report, rebuilt from its parsed fields.
  test.each(VECTOR_IDS)('%s: rebuilding from the parsed fields gives the genuine bytes (signature aside)', (id) => {
    const genuine = loadVector(id).report;
    const product = VECTOR_EXPECTATIONS[id]!.product;
    const r = parseReport(genuine);
    const spec: ReportSpec = {
      product,
      version: r.version as ReportVersion,
      guestSvn: r.guestSvn,
      policy: r.policy,
      familyId: r.familyId,
      imageId: r.imageId,
      vmpl: r.vmpl,
      currentTcb: decodeTcb(r.currentTcb, product),
      reportedTcb: decodeTcb(r.reportedTcb, product),
      committedTcb: decodeTcb(r.committedTcb, product),
      launchTcb: decodeTcb(r.launchTcb, product),
      platformInfo: r.platformInfo,
      signingKey: r.signerInfo.signingKey,
      authorKeyEn: r.signerInfo.authorKeyEn,
      maskChipKey: r.signerInfo.maskChipKey,
      reportData: r.reportData,
      measurement: r.measurement,
      hostData: r.hostData,
      idKeyDigest: r.idKeyDigest,
      authorKeyDigest: r.authorKeyDigest,
      reportId: r.reportId,
      reportIdMa: r.reportIdMa,
      chipId: r.chipId,
      cpuid: r.cpuid,
      currentVersion: r.currentVersion,
      committedVersion: r.committedVersion,
      launchMitVector: r.launchMitVector,
      currentMitVector: r.currentMitVector,
    };
    const unsigned = Buffer.from(genuine);
    unsigned.fill(0, SIGNATURE_OFFSET);
    expect(buildReport(spec).toString('hex')).toBe(unsigned.toString('hex'));
  });

  test.each([
    ['Milan', 0x19, 0x01],
    ['Genoa', 0x19, 0x11],
    ['Turin', 0x1a, 0x02],
  ] as const)('%s defaults: CPUID, version 5, REPORT_ID_MA all-FF, policy 0x30000', (product, family, model) => {
    const r = parseReport(buildReport({ product }));
    expect(r.version).toBe(5);
    expect(r.cpuid).toEqual({ family, model, stepping: 1 });
    expect(r.reportIdMa.every((b) => b === 0xff)).toBe(true);
    expect(r.policy).toBe(0x30000n);
    expect(r.signerInfo.signingKey).toBe(SigningKey.VCEK);
    expect(r.currentTcb).toBe(r.reportedTcb);
  });

  test('TCB layout follows the family: the same values encode differently on Turin', () => {
    const tcb = { fmc: 0, bootloader: 3, tee: 0, snp: 8, microcode: 0x73 };
    const milan = parseReport(buildReport({ product: 'Milan', reportedTcb: { ...tcb, fmc: undefined } }));
    const turin = parseReport(buildReport({ product: 'Turin', reportedTcb: tcb }));
    expect(milan.reportedTcb.toString(16)).toBe('7308000000000003');
    expect(turin.reportedTcb.toString(16)).toBe('7300000008000300');
    expect(decodeTcb(turin.reportedTcb, 'Turin')).toEqual(tcb);
  });

  test('version 2 has no CPUID bytes and version 3 no mitigation vectors', () => {
    const v2 = buildReport({ product: 'Genoa', version: 2 });
    expect(v2.subarray(0x188, 0x1a0).every((b) => b === 0)).toBe(true);
    expect(parseReport(v2).cpuid).toBeUndefined();
    const v3 = parseReport(buildReport({ product: 'Genoa', version: 3, launchMitVector: 5n }));
    expect(v3.launchMitVector).toBeUndefined();
    const v5 = parseReport(buildReport({ product: 'Genoa', version: 5, launchMitVector: 0xbn, currentMitVector: 1n }));
    expect([v5.launchMitVector, v5.currentMitVector]).toEqual([0xbn, 1n]);
  });

  test('a guest policy may be given as flags', () => {
    const r = parseReport(
      buildReport({
        product: 'Milan',
        policy: {
          abiMajor: 0,
          abiMinor: 31,
          smt: true,
          migrateMa: false,
          debug: true,
          singleSocket: false,
          cxlAllow: false,
          memAes256Xts: false,
          raplDis: false,
          ciphertextHiding: false,
          pageSwapDisable: false,
        },
      }),
    );
    expect(r.policy).toBe(0xb001fn);
  });

  test.each([
    [{ measurement: Buffer.alloc(47) }, 'measurement'],
    [{ hostData: 'zz' }, 'hostData'],
    [{ vmpl: -1 }, 'vmpl'],
    [{ version: 4 as ReportVersion }, 'version'],
    [{ reportedTcb: { bootloader: 256, tee: 0, snp: 0, microcode: 0 } }, 'reportedTcb.bootloader'],
    [{ reportedTcb: { fmc: 1, bootloader: 1, tee: 0, snp: 0, microcode: 0 } }, 'reportedTcb'],
    [{ policy: 1n << 64n }, 'policy'],
  ])('refuses %o with a typed error naming %s', (override, field) => {
    expect(() => buildReport({ product: 'Milan', ...override })).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field }) }));
  });
});

describe('report signer', () => {
  test('ECDSA P-384 over 0x000–0x29F, R and S little-endian in 72-byte fields', async () => {
    const unsigned = buildReport({ product: 'Milan', reportData: Buffer.alloc(64, 7) });
    const signed = await signReport(unsigned, vcek.privateKey);
    expect(signed).toHaveLength(REPORT_SIZE);
    expect(signed.subarray(0, SIGNATURE_OFFSET).equals(unsigned.subarray(0, SIGNATURE_OFFSET))).toBe(true);
    const r = parseReport(signed); // also checks the 24 high bytes of R and S and the tail are zero
    expect(verify('sha384', signedBytes(signed), { key: vcek.publicKey, dsaEncoding: 'ieee-p1363' }, signatureToP1363(r.signature))).toBe(true);
    expect(unsigned.subarray(SIGNATURE_OFFSET).every((b) => b === 0)).toBe(true); // input untouched
  });

  test('re-signing replaces the previous signature completely', async () => {
    const once = await signReport(buildReport({ product: 'Turin' }), vcek.privateKey);
    const stale = Buffer.from(once);
    stale.fill(0xaa, 0x400);
    const twice = await signReport(stale, vcek.privateKey);
    expect(twice.subarray(0x330).every((b) => b === 0)).toBe(true);
    expect(() => parseReport(twice)).not.toThrow();
  });

  test('refuses a wrong-sized report or a key that is not P-384', async () => {
    await expect(signReport(Buffer.alloc(10), vcek.privateKey)).rejects.toMatchObject({ code: 'invalid_argument' });
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await expect(signReport(buildReport({ product: 'Milan' }), p256)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(signReport(buildReport({ product: 'Milan' }), vcek.publicKey)).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
