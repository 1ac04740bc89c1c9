import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * Where a service's spool lives. Leftovers are adopted only by a later process of the same
 * service (which delivers them wherever that service now sends its records), so each service
 * has a folder of its own under the spool root; the integrity chain's lineage file sits beside
 * it, outside the folder the spool empties and removes.
 */
export interface SpoolLocation {
  /** `<spoolDir>/<namespace>`: the service's spool folder (one stream folder per process inside). */
  readonly namespaceDir: string;
  /** `<spoolDir>/<namespace>.lineage.json`: the last stream this service's auditors opened. */
  readonly lineageFile: string;
}

export const DEFAULT_SPOOL_DIR = '.tooltrail-spool';

export function spoolLocation(serviceName: string, spoolDir: string | undefined, cwd: string = process.cwd()): SpoolLocation {
  const root = path.resolve(cwd, spoolDir ?? DEFAULT_SPOOL_DIR);
  const namespace = `${serviceName.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64)}-${createHash('sha256').update(serviceName).digest('hex').slice(0, 8)}`;
  return { namespaceDir: path.join(root, namespace), lineageFile: path.join(root, `${namespace}.lineage.json`) };
}
