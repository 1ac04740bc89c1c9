/**
 * The password flags of the command-line clients agents run, by how the password follows the
 * flag. One table for both readings: the text pattern (key-value-scan.ts) and an argv whose
 * first item is the client (named-shapes.ts, value-masker.ts).
 */
export interface ClientPasswordFlags {
  readonly names: readonly string[];
  /** The password glued to the flag: `mysql -p<pw>` (`-p` alone prompts, `-p <word>` is a database). */
  readonly glued?: string;
  /** The password is the next word: `redis-cli -a <pw>`. */
  readonly next?: string;
  /** The next word is `user%<pw>`: `smbclient -U alice%<pw>`. */
  readonly userPercent?: string;
}

export const CLIENT_PASSWORD_FLAGS: readonly ClientPasswordFlags[] = [
  { names: ['mysql', 'mysqldump', 'mysqladmin', 'mysqlsh', 'mariadb', 'mariadb-dump'], glued: '-p' },
  { names: ['sshpass'], glued: '-p', next: '-p' },
  { names: ['redis-cli'], next: '-a' },
  { names: ['mongo', 'mongosh', 'mongodump', 'mongorestore', 'mongoexport', 'mongoimport'], next: '-p' },
  { names: ['smbclient'], userPercent: '-U' },
];
