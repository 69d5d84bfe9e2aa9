/**
 * The ARM template expression language, offline: a string value `[f(a, 'b').c[0]]` is an
 * expression, `[[...` is the literal `[...`. Parsing is exact; evaluation calls the function
 * table it is given, so what can be known before deployment is decided in functions.ts.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The value exists only at deployment (an unknown parameter, `reference()`): keep the text. */
export class Unresolved extends Error {}

/** The expression is wrong in a way the deployment would reject too. */
export class ExpressionError extends Error {}

type Node =
  { kind: 'literal'; value: string | number } | { kind: 'call'; name: string; args: Node[] } | { kind: 'property'; target: Node; name: string } | { kind: 'index'; target: Node; index: Node };

export type ArmFunction = (args: JsonValue[]) => JsonValue;

export function isExpression(text: string): boolean {
  return text.length >= 2 && text.startsWith('[') && text.endsWith(']') && !text.startsWith('[[');
}

/** A string that is not an expression, with the `[[` escape removed. */
function literalText(text: string): string {
  return text.startsWith('[[') ? text.slice(1) : text;
}

/** Evaluates one template string; non-expression strings come back as their literal text. */
export function evaluateString(text: string, functions: ReadonlyMap<string, ArmFunction>): JsonValue {
  if (!isExpression(text)) return literalText(text);
  return evaluate(parse(text.slice(1, -1)), functions);
}

function evaluate(node: Node, functions: ReadonlyMap<string, ArmFunction>): JsonValue {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'call': {
      const fn = functions.get(node.name.toLowerCase());
      if (!fn) throw new Unresolved(`${node.name}() is not evaluated offline`);
      return fn(node.args.map((arg) => evaluate(arg, functions)));
    }
    case 'property': {
      const target = evaluate(node.target, functions);
      if (target === null || typeof target !== 'object' || Array.isArray(target) || !(node.name in target)) {
        throw new ExpressionError(`the value has no property "${node.name}"`);
      }
      return target[node.name];
    }
    case 'index': {
      const target = evaluate(node.target, functions);
      const index = evaluate(node.index, functions);
      if (Array.isArray(target) && typeof index === 'number' && index >= 0 && index < target.length) return target[index];
      if (target !== null && typeof target === 'object' && !Array.isArray(target) && typeof index === 'string' && index in target) return target[index];
      throw new ExpressionError(`index ${JSON.stringify(index)} is out of range`);
    }
  }
}

// ---- parser -------------------------------------------------------------------------------

type Token = { type: 'name' | 'string' | 'number' | 'punct'; text: string; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === "'") {
      // '' inside a string is one quote.
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= source.length) throw new ExpressionError(`unterminated string at ${i}`);
        if (source[j] === "'") {
          if (source[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += source[j];
        j += 1;
      }
      tokens.push({ type: 'string', text: value, at: i });
      i = j + 1;
    } else if (/[-\d]/.test(ch)) {
      const match = /^-?\d+/.exec(source.slice(i));
      if (!match) throw new ExpressionError(`unexpected "${ch}" at ${i}`);
      tokens.push({ type: 'number', text: match[0], at: i });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ type: 'name', text: match[0], at: i });
      i += match[0].length;
    } else if ('(),.[]'.includes(ch)) {
      tokens.push({ type: 'punct', text: ch, at: i });
      i += 1;
    } else {
      throw new ExpressionError(`unexpected "${ch}" at ${i}`);
    }
  }
  return tokens;
}

function parse(source: string): Node {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (text: string) => tokens[pos]?.type === 'punct' && tokens[pos].text === text;
  const expect = (text: string) => {
    if (!peek(text)) throw new ExpressionError(`expected "${text}" at ${tokens[pos]?.at ?? source.length}`);
    pos += 1;
  };

  function primary(): Node {
    const token = tokens[pos];
    if (!token) throw new ExpressionError('unexpected end of expression');
    pos += 1;
    if (token.type === 'string') return { kind: 'literal', value: token.text };
    if (token.type === 'number') return { kind: 'literal', value: Number(token.text) };
    if (token.type !== 'name') throw new ExpressionError(`unexpected "${token.text}" at ${token.at}`);
    expect('(');
    const args: Node[] = [];
    if (!peek(')')) {
      args.push(expression());
      while (peek(',')) {
        pos += 1;
        args.push(expression());
      }
    }
    expect(')');
    return { kind: 'call', name: token.text, args };
  }

  function expression(): Node {
    let node = primary();
    for (;;) {
      if (peek('.')) {
        pos += 1;
        const name = tokens[pos];
        if (name?.type !== 'name') throw new ExpressionError(`expected a property name at ${name?.at ?? source.length}`);
        pos += 1;
        node = { kind: 'property', target: node, name: name.text };
      } else if (peek('[')) {
        pos += 1;
        const index = expression();
        expect(']');
        node = { kind: 'index', target: node, index };
      } else {
        return node;
      }
    }
  }

  const root = expression();
  if (pos !== tokens.length) throw new ExpressionError(`unexpected "${tokens[pos].text}" at ${tokens[pos].at}`);
  return root;
}
