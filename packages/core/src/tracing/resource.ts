import os from 'node:os';
import { SDK_INFO } from '@opentelemetry/core';

/**
 * The resource attributes every auditor detects (docs/span-schema.md, "Resource"), computed
 * once per process: the OTel SDK's `telemetry.sdk.*`, tooltrail as the distribution, the
 * process and the host. Each is cheap and synchronous; one that cannot be read is left out.
 */

// host.arch and os.type take the semantic conventions' values, not Node's names.
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: 'x86', arm: 'arm32', ppc64: 'ppc64', s390x: 's390x', ppc: 'ppc32' };
const OS_TYPE: Record<string, string> = { win32: 'windows', sunos: 'solaris', aix: 'aix', darwin: 'darwin', linux: 'linux', freebsd: 'freebsd', openbsd: 'openbsd', netbsd: 'netbsd' };

let detected: Record<string, string | number> | undefined;

export function detectedResourceAttributes(distroVersion: string): Record<string, string | number> {
  if (detected === undefined) {
    const out: Record<string, string | number> = {
      'telemetry.sdk.name': String(SDK_INFO['telemetry.sdk.name'] ?? 'opentelemetry'),
      'telemetry.sdk.language': String(SDK_INFO['telemetry.sdk.language'] ?? 'nodejs'),
      'telemetry.sdk.version': String(SDK_INFO['telemetry.sdk.version'] ?? ''),
      'process.pid': process.pid,
      'process.runtime.name': 'nodejs',
      'process.runtime.version': process.versions.node,
      'host.arch': ARCH[process.arch] ?? process.arch,
      'os.type': OS_TYPE[process.platform] ?? process.platform,
    };
    try {
      const host = os.hostname();
      if (host) out['host.name'] = host;
    } catch {
      /* left out */
    }
    detected = out;
  }
  return { ...detected, 'telemetry.distro.name': 'tooltrail', 'telemetry.distro.version': distroVersion };
}
