import { storeBackends } from './store-backends';
import { describeSdkSecrets } from './sdk-secrets-suite';

describeSdkSecrets(storeBackends().find((b) => b.name === 'sqlite')!);
