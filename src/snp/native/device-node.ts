import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceBusy, DeviceIoError, DeviceOutputMalformed, FirmwareError, NoTeeDevice } from '../../errors';
import { REPORT_SIZE } from '../abi/report';
import { loadSevGuestAddon, type NativeReportResult, type SevGuestAddon } from './load';
import { firmwareStatusName, VMM_ERR_BUSY, vmmErrorName } from './status';

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, code]) => [code, name]));

function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/** open() errors meaning there is no such device here, rather than a device that failed. */
const ABSENT = new Set(['ENOENT', 'ENODEV', 'ENXIO']);
/** The descriptor is dead (closed, driver unbound, FUSE server gone): a fresh open may work. */
const STALE = new Set(['EBADF', 'ENOTCONN', 'ENODEV', 'ENXIO']);
/** exitinfo2 halves when the driver failed before reaching the firmware (SEV_RET_NO_FW_CALL, -1 as u64). */
const NO_FW_CALL = 0xffffffff;
const CERT_ENTRY_SIZE = 24;
/** Retries after a VMM BUSY answer before device_busy. */
const BUSY_RETRIES = 3;

export interface DeviceNodeOptions {
  /** The loaded addon; tests wrap it to watch or disturb calls. Default: build/Release/sevguest.node. */
  addon?: SevGuestAddon;
  /** First backoff after BUSY, doubled on each retry; default 50 ms. */
  busyBackoffMs?: number;
}

export interface ExtReport {
  report: Buffer;
  /** The GHCB certificate table without its page padding; empty when the host provided none. */
  certTable: Buffer;
}

/**
 * The certificate buffer is whole pages; the table inside is self-delimiting. A buffer without
 * a terminating entry is returned whole for the certificate-table parser to reject.
 */
function trimCertTable(certs: Buffer): Buffer {
  let end = 0;
  for (let at = 0; at + CERT_ENTRY_SIZE <= certs.length; at += CERT_ENTRY_SIZE) {
    const entry = certs.subarray(at, at + CERT_ENTRY_SIZE);
    if (entry.every((b) => b === 0)) return Buffer.from(certs.subarray(0, at === 0 ? 0 : Math.max(end, at + CERT_ENTRY_SIZE)));
    end = Math.max(end, entry.readUInt32LE(16) + entry.readUInt32LE(20));
  }
  return certs;
}

/**
 * One SEV guest device node (/dev/sev-guest or /dev/sev) held open: the descriptor is opened
 * once, because the sidecar opens as root and then drops privileges; requests run one at a
 * time, as the PSP serves them; a descriptor that has died is reopened once and the request
 * repeated; a host answering BUSY is retried with backoff. Every failure is a typed SkrError.
 */
export class SevDeviceNode {
  private fd: number | undefined;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly busyBackoffMs: number;

  private constructor(
    readonly path: string,
    private readonly addon: SevGuestAddon,
    options: DeviceNodeOptions,
  ) {
    this.busyBackoffMs = options.busyBackoffMs ?? 50;
  }

  /** Opens `path` now, so a missing device or a permission problem shows at start-up. */
  static async open(path: string, options: DeviceNodeOptions = {}): Promise<SevDeviceNode> {
    const node = new SevDeviceNode(path, options.addon ?? loadSevGuestAddon(), options);
    node.fd = await node.openFd();
    return node;
  }

  /** SNP_GET_REPORT: the 0x4A0-byte report for 64 bytes of REPORT_DATA at `vmpl`. */
  getReport(reportData: Uint8Array, vmpl: number): Promise<Buffer> {
    return this.request('SNP_GET_REPORT', async (fd) => {
      const result = await this.addon.getReport(fd, reportData, vmpl);
      return this.judge('SNP_GET_REPORT', result);
    });
  }

  /**
   * SNP_GET_EXT_REPORT with a certificate buffer of `certsLen` bytes (whole pages); the addon
   * retries once with the size the host asks for when the buffer is too small.
   */
  getExtReport(reportData: Uint8Array, vmpl: number, certsLen: number): Promise<ExtReport> {
    return this.request('SNP_GET_EXT_REPORT', async (fd) => {
      const result = await this.addon.getExtReport(fd, reportData, vmpl, certsLen);
      const report = this.judge('SNP_GET_EXT_REPORT', result, { certsLen: result.certsLen });
      return report === 'busy' ? report : { report, certTable: trimCertTable(result.certs ?? Buffer.alloc(0)) };
    });
  }

  /** SEV_SNP_GUEST_MSG_REPORT of the Azure 5.15 /dev/sev driver. */
  getLegacyReport(reportData: Uint8Array, vmpl: number): Promise<Buffer> {
    return this.request('SEV_SNP_GUEST_MSG_REPORT', async (fd) => {
      const result = await this.addon.getLegacyReport(fd, reportData, vmpl);
      return this.judge('SEV_SNP_GUEST_MSG_REPORT', result);
    });
  }

  /** Waits for queued requests, then releases the descriptor; later requests fail with EBADF. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const fd = this.fd;
    this.fd = undefined;
    // Linux frees the descriptor even when close reports an error, so there is nothing to retry.
    if (fd !== undefined) await this.addon.close(fd);
  }

  /** Requests made before close() still run; those made after it fail without touching the device. */
  private request<T>(operation: string, call: (fd: number) => Promise<T | 'busy'>): Promise<T> {
    if (this.closed) return Promise.reject(new DeviceIoError(operation, this.path, 'EBADF', `${this.path} is closed`));
    const run = this.queue.then(() => this.withReopen(operation, call));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async withReopen<T>(operation: string, call: (fd: number) => Promise<T | 'busy'>): Promise<T> {
    // A reopen that failed earlier left no descriptor: try once more before giving up.
    this.fd ??= await this.openFd();
    try {
      return await this.withBusyRetry(operation, this.fd, call);
    } catch (err) {
      if (!(err instanceof DeviceIoError && STALE.has(err.errno))) throw err;
      const dead = this.fd;
      this.fd = undefined;
      // After EBADF the number is no longer ours and may already name someone else's file.
      if (err.errno !== 'EBADF') await this.addon.close(dead);
      this.fd = await this.openFd();
      return this.withBusyRetry(operation, this.fd, call);
    }
  }

  private async withBusyRetry<T>(operation: string, fd: number, call: (fd: number) => Promise<T | 'busy'>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await call(fd);
      if (outcome !== 'busy') return outcome;
      if (attempt === BUSY_RETRIES) throw new DeviceBusy(operation, attempt + 1);
      await sleep(this.busyBackoffMs * 2 ** attempt);
    }
  }

  private async openFd(): Promise<number> {
    const { fd, errno } = await this.addon.open(this.path);
    if (fd >= 0) return fd;
    const name = errnoName(errno);
    if (ABSENT.has(name)) throw new NoTeeDevice(`SEV-SNP guest device ${this.path} is not available (${name})`, { path: this.path, errno: name });
    throw new DeviceIoError('open', this.path, name);
  }

  /** The report, 'busy' for the retry loop, or the typed error the outcome amounts to. */
  private judge(operation: string, result: NativeReportResult, details: Record<string, unknown> = {}): Buffer | 'busy' {
    const { rc, errno, fwError, vmmError, status } = result;
    if (rc !== 0) {
      const noFirmwareCall = (fwError === 0 && vmmError === 0) || (fwError === NO_FW_CALL && vmmError === NO_FW_CALL);
      if (noFirmwareCall) throw new DeviceIoError(operation, this.path, errnoName(errno));
      if (vmmError === VMM_ERR_BUSY) return 'busy';
      throw new FirmwareError(operation, fwError, vmmError, {
        fwErrorName: firmwareStatusName(fwError),
        vmmErrorName: vmmErrorName(vmmError),
        errno: errnoName(errno),
        path: this.path,
        ...details,
      });
    }
    if (status !== 0) {
      throw new FirmwareError(operation, status, 0, { fwErrorName: firmwareStatusName(status), vmmErrorName: 'NONE', source: 'MSG_REPORT_RSP', path: this.path });
    }
    if (!result.report || result.reportSize !== REPORT_SIZE) {
      throw new DeviceOutputMalformed(`${operation} returned a ${result.reportSize}-byte report, expected ${REPORT_SIZE}`, {
        operation,
        expected: REPORT_SIZE,
        actual: result.reportSize,
      });
    }
    return result.report;
  }
}
