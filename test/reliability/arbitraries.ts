import fc from 'fast-check';

/**
 * Hostile inputs, as JSON text so that values JSON.stringify cannot produce (10 000 levels of
 * nesting, invalid UTF-8, lone surrogates) still reach the servers.
 */
const ALPHABETS = {
  base64ish: [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ .!@%\n'],
  hexish: [...'0123456789abcdefABCDEFxyz -'],
};

/** Nesting far beyond any sane document; arrays, objects or a mix, optionally unterminated. */
export const deepJsonText = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 50, max: 2_000 }), fc.constantFrom(5_000, 10_000, 20_000)),
    open: fc.constantFrom('[', '{"a":', '[{"b":'),
    closed: fc.boolean(),
  })
  .map(({ depth, open, closed }) => {
    const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
    return open.repeat(depth) + '0' + (closed ? close.repeat(depth) : '');
  });

export const hugeString = fc
  .record({ length: fc.integer({ min: 1_000, max: 300_000 }), char: fc.constantFrom('A', '0', 'é', '\\u0000', '"') })
  .map(({ length, char }) => char.repeat(Math.ceil(length / char.length)));

export const badBase64 = fc.string({ unit: fc.constantFrom(...ALPHABETS.base64ish), maxLength: 200 });
export const badHex = fc.string({ unit: fc.constantFrom(...ALPHABETS.hexish), maxLength: 200 });

/** A string worth trying in any field: empty, odd characters, base64-looking, hex-looking, huge. */
export const hostileString = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  badBase64,
  badHex,
  fc.constantFrom('', ' ', 'null', '__proto__', 'constructor', '../../etc/passwd', '%00', '\u0000', 'A'.repeat(16 * 1024 + 1)),
);

/** Any value as JSON text: wrong types, hostile strings, deep nesting. */
export const hostileValueText = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: hostileString.map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: deepJsonText.filter((t) => t.length < 60_000) },
  { weight: 1, arbitrary: fc.constantFrom('"\\ud800"', '1e999', '-0', '123456789012345678901234567890', 'true', '{}', '[]') },
);

/** An object of the given fields, each absent or any hostile value, written as JSON text. */
export function objectText(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const entries = Object.entries(fields).map(([name, value]) =>
    fc.option(
      value.map((v) => `${JSON.stringify(name)}:${v}`),
      { nil: undefined },
    ),
  );
  return fc.tuple(...entries).map((parts) => `{${parts.filter((p) => p !== undefined).join(',')}}`);
}

/** Whole bodies that are not what any route wants: not JSON, random JSON, deep, huge, binary. */
export const hostileBodyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  deepJsonText,
  hugeString.map((s) => JSON.stringify({ x: s })),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
);

/** Header variations that reach the body parser's other branches. */
export const hostileHeaders = fc.oneof(
  fc.constant<Record<string, string>>({}),
  fc.constantFrom<Record<string, string>>(
    { 'content-type': 'text/plain' },
    { 'content-type': 'application/json; charset=utf-16' },
    { 'content-type': 'application/json; charset=bogus' },
    { 'content-type': 'multipart/form-data; boundary=x' },
    { 'content-encoding': 'gzip' },
    { 'content-encoding': 'deflate' },
    { 'content-encoding': 'br' },
    { 'content-encoding': 'x-unknown' },
  ),
);

/** base64 of arbitrary bytes or of JSON text (including the deep kind), in both alphabets. */
export const runtimeDataText = fc
  .oneof(
    fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
    fc.json({ maxDepth: 3 }).map((t) => Buffer.from(t)),
    fc.object({ maxDepth: 2 }).map((o) => Buffer.from(JSON.stringify(o))),
    deepJsonText.filter((t) => t.length < 40_000).map((t) => Buffer.from(`{"k":${t}}`)),
  )
  .chain((bytes) => fc.constantFrom(bytes.toString('base64'), bytes.toString('base64url')))
  .map((s) => JSON.stringify(s));

/** Runs per property: enough to find the shapes above, few enough for 2 cores in a few minutes. */
export const RUNS = Number(process.env.SKR_RELIABILITY_RUNS ?? 500);
