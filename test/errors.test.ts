import * as errors from '../src/errors';
import {
  CertificateOutsideValidity,
  ChipIdMismatch,
  EvidenceBindingFailed,
  NonceRejected,
  ReportNotAcceptable,
  SkrError,
  UpstreamRejected,
  UpstreamUnavailable,
  UvmEndorsementRefused,
  VekExpired,
  type SkrErrorCode,
} from '../src/errors';

// One class per code: the compiler checks each class's static code is an SkrErrorCode, the type
// assertions below (checked by `tsc --noEmit`, which covers test/) that every code has a class,
// and the tests at run time that no two classes share one.

type Exported = (typeof errors)[keyof typeof errors];
/** The exported classes that can be constructed: abstract bases are not `new`-able. */
type ConcreteClass = Extract<Exported, new (...args: never[]) => SkrError>;
type StaticCode<C> = C extends { code: infer Code } ? Code : never;
/** A concrete class that declares no code of its own inherits SkrError's wide type. */
type WithoutOwnCode<C> = C extends unknown ? (SkrErrorCode extends StaticCode<C> ? C : never) : never;

type CodesWithoutClass = Exclude<SkrErrorCode, StaticCode<ConcreteClass>>;
export const everyCodeHasAClass: [CodesWithoutClass] extends [never] ? true : CodesWithoutClass = true;
export const everyClassHasItsCode: [WithoutOwnCode<ConcreteClass>] extends [never] ? true : WithoutOwnCode<ConcreteClass> = true;

/** The catch-alls for a family of failures: no code of their own, never thrown as such. */
const ABSTRACT_BASES = [SkrError, UpstreamUnavailable, CertificateOutsideValidity, ReportNotAcceptable, EvidenceBindingFailed, NonceRejected, UvmEndorsementRefused];

type ErrorClass = (typeof ABSTRACT_BASES)[number] & { code?: SkrErrorCode };
const errorClasses = Object.values(errors).filter((value): value is ErrorClass => typeof value === 'function' && (value === SkrError || value.prototype instanceof SkrError));
const withCode = errorClasses.filter((c) => Object.hasOwn(c, 'code'));

describe('one class per error code', () => {
  test('every exported error class is a listed abstract base or declares its own code', () => {
    expect(errorClasses.length).toBeGreaterThan(ABSTRACT_BASES.length);
    expect(
      errorClasses
        .filter((c) => !Object.hasOwn(c, 'code'))
        .map((c) => c.name)
        .sort(),
    ).toEqual(ABSTRACT_BASES.map((c) => c.name).sort());
  });

  test('no two classes share a code', () => {
    const byCode = new Map<string, string[]>();
    for (const c of withCode) byCode.set(c.code!, [...(byCode.get(c.code!) ?? []), c.name]);
    expect([...byCode].filter(([, names]) => names.length > 1)).toEqual([]);
  });

  test('codes are lower_snake_case', () => {
    for (const c of withCode) expect(c.code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
  });

  test('an instance carries its class code and name, and its family answers instanceof', () => {
    const refusal = new ChipIdMismatch('chip_id: expected aa, got bb', 'aa', 'bb');
    expect(refusal).toBeInstanceOf(ReportNotAcceptable);
    expect(refusal).toMatchObject({ code: 'chip_id_mismatch', status: 403, name: 'ChipIdMismatch', details: { expected: 'aa', actual: 'bb' } });
    expect(refusal.toJSON()).toEqual({ code: 'chip_id_mismatch', message: 'chip_id: expected aa, got bb', details: { expected: 'aa', actual: 'bb' } });

    const expired = new VekExpired('2020-01-01T00:00:00Z', '2021-01-01T00:00:00Z');
    expect(expired).toBeInstanceOf(CertificateOutsideValidity);
    expect(expired).toMatchObject({ code: VekExpired.code, status: 400, name: 'VekExpired' });
    expect(expired).not.toBeInstanceOf(ReportNotAcceptable);
  });

  test("an upstream's refusal keeps the upstream's 4xx (anything else is a 502), which also rides in details", () => {
    for (const upstreamStatus of [400, 403, 404, 409]) {
      expect(new UpstreamRejected('key vault', upstreamStatus, 'Code', 'refused')).toMatchObject({ status: upstreamStatus, details: { upstreamStatus, upstreamCode: 'Code' } });
    }
    expect(new UpstreamRejected('key vault', 500, undefined, 'refused').status).toBe(502);
  });
});
