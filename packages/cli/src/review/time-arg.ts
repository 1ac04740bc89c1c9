/**
 * Times on the review commands' command lines (`--since`, `--until`): what a date or a duration
 * ago means, refused with a UsageError when it means nothing.
 */
import { UsageError } from '../commands/io.js';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** The last millisecond a Date can hold, either side of the epoch (ECMA-262: ±100,000,000 days). */
const MAX_DATE_MS = 8.64e15;

/**
 * A time on the command line: an ISO 8601 date or date-time (`2026-05-01`,
 * `2026-05-01T09:30:00Z`), or a duration ago: `90m`, `24h`, `7d`, `2w`. A date-time without a
 * zone is UTC (every output is in UTC; JavaScript would read it as local time). UsageError for
 * anything else, a day or time the calendar does not have (`2026-02-30` is not March 2) and a
 * duration too long to be a date.
 */
export function parseTimeArg(s: string, now: Date = new Date()): Date {
  const t = s.trim();
  const m = /^(\d+)(m|h|d|w)$/.exec(t);
  if (m) {
    const ms = now.getTime() - Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    if (!(ms >= -MAX_DATE_MS)) throw new UsageError(`"${s}" is too far back (a date before the year -271821)`);
    return new Date(ms);
  }
  // Only things that look like ISO dates: `new Date("1")` would be a year.
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(t);
  if (!iso) throw new UsageError(`expected an ISO 8601 date or a duration ago like 90m, 24h, 7d, got "${s}"`);
  const [, y, mo, d, hh = '00', mi = '00', ss = '00', frac = '', zone = 'Z'] = iso;
  // Date.UTC rolls 2026-02-30 over to March 2: the fields must come back as given.
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mi), Number(ss)] as const;
  const wall = new Date(Date.UTC(...fields));
  if (wall.getUTCFullYear() !== fields[0] || wall.getUTCMonth() !== fields[1] || wall.getUTCDate() !== fields[2] || wall.getUTCHours() !== fields[3] || wall.getUTCMinutes() !== fields[4] || wall.getUTCSeconds() !== fields[5]) {
    throw new UsageError(`"${s}" is not a date of the calendar`);
  }
  const offset = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  if (Math.abs(offset) >= 24 * 60 || Number(zone.slice(-2)) >= 60) throw new UsageError(`"${s}": the zone ${zone} is not a UTC offset`);
  const ms = Math.floor(Number(`0${frac}`) * 1000);
  return new Date(wall.getTime() + ms - offset * 60_000);
}
