import { storeBackends } from './store-backends';
import { describeSdkKeys } from './sdk-keys-suite';

describeSdkKeys(storeBackends().find((b) => b.name === 'sqlite')!);
