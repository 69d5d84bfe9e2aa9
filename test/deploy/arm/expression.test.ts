import { ExpressionError, Unresolved, evaluateString, type JsonValue } from '../../../src/deploy/arm/expression';
import { armFunctions, DEFAULT_SCOPE } from '../../../src/deploy/arm/functions';

const PARAMETERS: Record<string, JsonValue> = { name: 'skr-app', port: 8080, flag: true, list: ['a', 'b'], obj: { a: 1, b: 'x' } };
const VARIABLES: Record<string, JsonValue> = { sidecarPort: 8080 };

const functions = armFunctions(DEFAULT_SCOPE, {
  parameter: (name) => {
    if (name === 'unknownAtDeploy') throw new Unresolved('no value');
    if (!(name in PARAMETERS)) throw new ExpressionError(`parameter "${name}" is not declared`);
    return PARAMETERS[name];
  },
  variable: (name) => VARIABLES[name],
});
const run = (text: string) => evaluateString(text, functions);
const RG_ID = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/skr-validate';

describe('ARM expressions evaluate offline', () => {
  test.each<[string, JsonValue]>([
    ['plain text', 'plain text'],
    ['[[not an expression]', '[not an expression]'],
    ["['it''s']", "it's"],
    ['[42]', 42],
    ["[parameters('name')]", 'skr-app'],
    ["[PARAMETERS('port')]", 8080],
    ["[variables('sidecarPort')]", 8080],
    ["[concat('a', '-', parameters('name'), 1)]", 'a-skr-app1'],
    ["[concat(parameters('list'), parameters('list'))]", ['a', 'b', 'a', 'b']],
    ["[format('{0}:{1}', 'host', parameters('port'))]", 'host:8080'],
    ["[format('{{literal}} {0}', parameters('flag'))]", '{literal} True'],
    ["[base64('package policy')]", 'cGFja2FnZSBwb2xpY3k='],
    ["[string(parameters('port'))]", '8080'],
    ["[string(parameters('obj'))]", '{"a":1,"b":"x"}'],
    ['[resourceGroup().location]', 'eastus'],
    ['[resourceGroup().id]', RG_ID],
    ["[parameters('list')[1]]", 'b'],
    ["[parameters('obj')['b']]", 'x'],
    ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id1')]", `${RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`],
    [
      "[resourceId('other-rg', 'Microsoft.Network/virtualNetworks/subnets', 'vnet', 'sub')]",
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/other-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/sub',
    ],
    ["[resourceId('sub-1', 'rg-1', 'Microsoft.KeyVault/vaults', 'kv')]", '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.KeyVault/vaults/kv'],
  ])('%s', (text, expected) => {
    expect(run(text)).toEqual(expected);
  });

  test('uniqueString stand-in is deterministic, 13 base32 characters, and input-sensitive', () => {
    const a = run('[uniqueString(resourceGroup().id)]');
    expect(a).toMatch(/^[a-z2-7]{13}$/);
    expect(run('[uniqueString(resourceGroup().id)]')).toBe(a);
    expect(run("[uniqueString(resourceGroup().id, 'x')]")).not.toBe(a);
  });

  test.each([
    ["[reference('x').ipAddress.ip]", 'reference() is not evaluated offline'],
    ["[parameters('unknownAtDeploy')]", 'no value'],
    ["[format('{0:N2}', 1)]", 'not modelled'],
  ])('%s stays unresolved', (text, reason) => {
    expect(() => run(text)).toThrow(Unresolved);
    expect(() => run(text)).toThrow(reason);
  });

  test.each([
    "[concat('a']",
    "[parameters('nope')]",
    "[parameters('obj').missing]",
    "[parameters('list')[5]]",
    "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities')]",
    "[format('{1}', 'only zero')]",
    "[concat(parameters('obj'))]",
    "['unterminated]",
    '[a b]',
  ])('%s is an error the deployment would report too', (text) => {
    expect(() => run(text)).toThrow(ExpressionError);
  });
});
