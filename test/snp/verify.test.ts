import { verifyReport, type VerifyOptions } from '../../src/snp/verify';
import { SigningKey } from '../../src/snp/abi';
import { SkrError } from '../../src/errors';
import { VECTOR_EXPECTATIONS } from './vector-expectations';
import { fixture, loadVector, VECTOR_IDS, VECTOR_TIME } from './vectors';

const options: VerifyOptions = { now: VECTOR_TIME };

describe('verifyReport on genuine AMD reports', () => {
  test.each(VECTOR_IDS)('%s verifies unchanged against the pinned AMD roots', async (id) => {
    const { report, vek } = loadVector(id);
    const expected = VECTOR_EXPECTATIONS[id]!;
    const verified = await verifyReport({ report, vek }, options);
    expect(verified.product).toBe(expected.product);
    expect(verified.signer).toBe(expected.signer);
    expect(verified.genuine).toBe(true);
    expect(verified.reportedTcb).toEqual(expected.reportedTcb);
    expect(verified.vek.productName).toBe(expected.vekProductName);
  });

  test.each(VECTOR_IDS)('%s verifies with its KDS chain supplied (ASK/ASVK then ARK)', async (id) => {
    const { report, vek } = loadVector(id);
    const { product, signer } = VECTOR_EXPECTATIONS[id]!;
    const bundle = `${product.toLowerCase()}_${signer === 'VLEK' ? 'vlek_' : ''}cert_chain.pem`;
    const chain = [fixture('amd-roots', bundle).toString('latin1')];
    await expect(verifyReport({ report, vek, chain }, options)).resolves.toMatchObject({ product });
  });

  test('a PEM VEK is accepted like DER', async () => {
    const { report, vek } = loadVector('milan-v3-oak');
    const pem = `-----BEGIN CERTIFICATE-----\n${vek.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
    await expect(verifyReport({ report, vek: pem }, options)).resolves.toMatchObject({ signer: 'VCEK' });
  });
});

describe('every byte of the signed region and of R and S, flipped, is rejected with a typed error', () => {
  test.each(VECTOR_IDS)('%s', async (id) => {
    const { report, vek } = loadVector(id);
    const accepted: number[] = [];
    const untyped: number[] = [];
    // 0x000–0x29F is signed; 0x2A0–0x32F holds R and S (72 bytes each).
    for (let offset = 0; offset < 0x330; offset++) {
      const mutated = Buffer.from(report);
      mutated[offset]! ^= 0xff;
      try {
        await verifyReport({ report: mutated, vek }, options);
        accepted.push(offset);
      } catch (error) {
        if (!(error instanceof SkrError)) untyped.push(offset);
      }
    }
    expect(accepted).toEqual([]);
    expect(untyped).toEqual([]);
  });
});

/**
 * ECDSA signatures are malleable: (r, s) and (r, n − s) both verify. AMD's firmware does not
 * normalise s, so refusing high s would refuse genuine reports; the decision (documented in
 * src/snp/verify.ts) is pinned here on the vectors themselves.
 */
describe('signature malleability (s → n − s)', () => {
  const P384_N = BigInt('0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973');
  const S_OFFSET = 0x2a0 + 72;
  const readS = (report: Buffer) =>
    BigInt(
      `0x${Buffer.from(report.subarray(S_OFFSET, S_OFFSET + 48))
        .reverse()
        .toString('hex')}`,
    );
  const writeS = (report: Buffer, value: bigint) => Buffer.from(value.toString(16).padStart(96, '0'), 'hex').reverse().copy(report, S_OFFSET);

  test('genuine AMD reports carry high s (so high s cannot be refused)', () => {
    const high = VECTOR_IDS.filter((id) => readS(loadVector(id).report) > P384_N / 2n);
    expect(high.length).toBeGreaterThan(0);
    expect(high.length).toBeLessThan(VECTOR_IDS.length);
  });

  test.each(VECTOR_IDS)('%s: the n − s form verifies and reports the same signed content', async (id) => {
    const { report, vek } = loadVector(id);
    const flipped = Buffer.from(report);
    writeS(flipped, P384_N - readS(report));
    expect(flipped.equals(report)).toBe(false);
    const [original, other] = await Promise.all([verifyReport({ report, vek }, options), verifyReport({ report: flipped, vek }, options)]);
    expect(other.report.measurement).toEqual(original.report.measurement);
    expect(other.report.reportData).toEqual(original.report.reportData);
    expect(flipped.subarray(0, 0x2a0).equals(report.subarray(0, 0x2a0))).toBe(true);
  });
});

describe('verifyReport rejects, each with its own code', () => {
  test("another chip's VCEK: vek_chip_mismatch", async () => {
    const { report } = loadVector('milan-v3-oak');
    const { vek } = loadVector('milan-v5-gcp-vmpl1');
    await expect(verifyReport({ report, vek }, options)).rejects.toMatchObject({ code: 'vek_chip_mismatch' });
  });

  test('hwID differs from CHIP_ID (Turin: the 8 significant bytes, and the zero tail)', async () => {
    for (const [offset, value] of [
      [0x1a0, 0x01],
      [0x1a0 + 8, 0x01],
    ] as const) {
      const { report, vek } = loadVector('turin-v5-oak');
      report[offset]! ^= value;
      await expect(verifyReport({ report, vek }, options)).rejects.toMatchObject({
        code: 'vek_chip_mismatch',
        details: { field: 'chip_id' },
      });
    }
  });

  test('VEK of the wrong product: product_mismatch', async () => {
    const { report } = loadVector('milan-v3-oak');
    const { vek } = loadVector('genoa-v5-oak');
    await expect(verifyReport({ report, vek }, options)).rejects.toMatchObject({ code: 'product_mismatch' });
  });

  test('a v2 report with a product contradicting its VEK: product_mismatch', async () => {
    const { report, vek } = loadVector('milan-v2-aci-thim');
    await expect(verifyReport({ report, vek }, { ...options, product: 'Genoa' })).rejects.toMatchObject({ code: 'product_mismatch' });
    await expect(verifyReport({ report, vek }, { ...options, product: 'Milan' })).resolves.toMatchObject({ product: 'Milan' });
  });

  test('a CPUID contradicting the requested product: product_mismatch', async () => {
    const { report, vek } = loadVector('turin-v5-oak');
    await expect(verifyReport({ report, vek }, { ...options, product: 'Milan' })).rejects.toMatchObject({ code: 'product_mismatch' });
  });

  test('an ARK supplied with the evidence that is not the pinned one: ark_not_trusted', async () => {
    const { report, vek } = loadVector('milan-v3-oak');
    const chain = [fixture('amd-roots', 'milan_ask.pem').toString(), fixture('amd-roots', 'genoa_ark.pem').toString()];
    // The Genoa ARK is genuine but foreign to a Milan chain.
    await expect(verifyReport({ report, vek, chain }, options)).rejects.toMatchObject({ code: 'ark_not_trusted' });
  });

  test('TCB of the VEK differs from REPORTED_TCB: vek_tcb_mismatch naming the component', async () => {
    const { report, vek } = loadVector('genoa-v5-oak');
    report[0x180 + 6]! += 1; // Genoa SNP SPL lives in byte 6
    await expect(verifyReport({ report, vek }, options)).rejects.toMatchObject({
      code: 'vek_tcb_mismatch',
      details: { field: 'reported_tcb.snp', expected: 26, actual: 25 },
    });
  });

  test('expired and not-yet-valid VEKs: vek_expired, vek_not_yet_valid', async () => {
    const { report, vek } = loadVector('milan-v3-vlek-aws');
    await expect(verifyReport({ report, vek }, { now: new Date('2026-01-01') })).rejects.toMatchObject({ code: 'vek_expired' });
    await expect(verifyReport({ report, vek }, { now: new Date('2024-01-01') })).rejects.toMatchObject({ code: 'vek_not_yet_valid' });
  });

  test('a VLEK-signed report offered a VCEK, and the reverse: vek_kind_mismatch', async () => {
    const vlek = loadVector('milan-v3-vlek-aws');
    const vcek = loadVector('milan-v3-oak');
    await expect(verifyReport({ report: vlek.report, vek: vcek.vek }, options)).rejects.toMatchObject({ code: 'vek_kind_mismatch' });
    await expect(verifyReport({ report: vcek.report, vek: vlek.vek }, options)).rejects.toMatchObject({ code: 'vek_kind_mismatch' });
  });

  test('a report whose SIGNING_KEY was switched keeps failing: the VLEK cannot sign as VCEK', async () => {
    const { report, vek } = loadVector('milan-v3-vlek-aws');
    report.writeUInt32LE(SigningKey.VCEK << 2, 0x48);
    await expect(verifyReport({ report, vek }, options)).rejects.toMatchObject({ code: 'vek_kind_mismatch' });
  });

  test('no VEK and no fetcher: refused, never fetched behind the caller', async () => {
    const { report } = loadVector('milan-v3-oak');
    await expect(verifyReport({ report }, options)).rejects.toMatchObject({ code: 'certificate_malformed' });
  });

  test('a fetcher is asked for the VEK by product, chip and TCB', async () => {
    const { report, vek } = loadVector('turin-v5-oak');
    const requests: unknown[] = [];
    const verified = await verifyReport(
      { report },
      {
        ...options,
        fetcher: async (request) => {
          requests.push(request);
          return { vek };
        },
      },
    );
    expect(verified.product).toBe('Turin');
    expect(requests).toEqual([expect.objectContaining({ product: 'Turin', kind: 'VCEK', reportedTcb: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 } })]);
  });

  test('a garbage VEK: certificate_malformed', async () => {
    const { report } = loadVector('milan-v3-oak');
    await expect(verifyReport({ report, vek: Buffer.from('not a certificate') }, options)).rejects.toMatchObject({
      code: 'certificate_malformed',
    });
  });
});
