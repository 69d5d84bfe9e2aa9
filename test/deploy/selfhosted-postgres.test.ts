import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseParametersFile, validateTemplate } from '../../src/deploy';
import { parseStoreLocation, postgresConnection } from '../../src/kms/store/store-url';

// Templates are read as plain JSON.
type Json = any;

const TEMPLATES = join(__dirname, '../../arm-templates');
const load = (file: string): Json => JSON.parse(readFileSync(join(TEMPLATES, file), 'utf8'));
const STORE = 'postgres://skradmin:example-password@skr-db.postgres.database.azure.com:5432/skr?sslmode=verify-full';

describe('the self-hosted template: the KMS on Azure Database for PostgreSQL', () => {
  const template = load('aci-skr-selfhosted.json');
  const byType = (type: string) => template.resources.find((r: Json) => r.type === type);

  test('validates with the PostgreSQL option chosen, as without it', () => {
    const parameters = {
      ...parseParametersFile(load('aci-skr-selfhosted.parameters.json')),
      kmsStore: { value: STORE },
      postgresServerName: { value: 'skr-db' },
      postgresAdminPassword: { value: 'example-password' },
    };
    expect(validateTemplate(template, { parameters })).toMatchObject({ valid: true, errors: [], warnings: [] });
  });

  test('the connection string is a secure parameter, reaching skr kms only as a secure environment variable', () => {
    expect(template.parameters.kmsStore).toMatchObject({ type: 'securestring', defaultValue: '' });
    expect(template.parameters.postgresAdminPassword.type).toBe('securestring');
    const kms = byType('Microsoft.ContainerInstance/containerGroups').properties.containers.find((c: Json) => c.name === 'kms');
    expect(kms.properties.environmentVariables).toContainEqual({ name: 'SKR_STORE', secureValue: "[parameters('kmsStore')]" });
    expect(JSON.stringify(kms.properties.command)).not.toContain('kmsStore');
    // Left empty, the KMS keeps its embedded SQLite store.
    expect(parseStoreLocation('', '/state/kms/kms/keys.sqlite')).toEqual({ kind: 'sqlite', path: '/state/kms/kms/keys.sqlite' });
  });

  test('the server requires TLS, and the documented connection string verifies it', () => {
    const server = byType('Microsoft.DBforPostgreSQL/flexibleServers');
    expect(server).toMatchObject({ condition: "[variables('deployPostgres')]", properties: { administratorLoginPassword: "[parameters('postgresAdminPassword')]" } });
    expect(byType('Microsoft.DBforPostgreSQL/flexibleServers/configurations')).toMatchObject({
      name: "[format('{0}/require_secure_transport', parameters('postgresServerName'))]",
      properties: { value: 'on' },
    });
    expect(template.parameters.kmsStore.metadata.description).toContain('sslmode=verify-full');
    expect(postgresConnection(STORE).ssl).toEqual({ rejectUnauthorized: true });
  });

  test('the container group waits for the database when it is deployed', () => {
    expect(byType('Microsoft.ContainerInstance/containerGroups').dependsOn).toEqual([
      "[resourceId('Microsoft.DBforPostgreSQL/flexibleServers/firewallRules', parameters('postgresServerName'), 'AllowAzureServices')]",
    ]);
  });
});
