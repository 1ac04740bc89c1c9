import type { HrTime } from '@opentelemetry/api';

// Wall-clock anchor taken once; later readings add the monotonic performance.now() delta, so
// span times never run backwards within a process even if the system clock is stepped.
const originMs = Date.now() - performance.now();

export function nowHrTime(): HrTime {
  return msToHrTime(originMs + performance.now());
}

export function msToHrTime(ms: number): HrTime {
  const sec = Math.floor(ms / 1000);
  const nanos = Math.round((ms - sec * 1000) * 1e6);
  return nanos >= 1e9 ? [sec + 1, nanos - 1e9] : [sec, nanos];
}

export function hrTimeDiff(start: HrTime, end: HrTime): HrTime {
  let sec = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    sec -= 1;
    nanos += 1e9;
  }
  return [sec, nanos];
}

/** Accepts what the OTel API allows as a time input: HrTime, epoch ms, or Date. */
export function toHrTime(t: HrTime | number | Date | undefined): HrTime {
  if (t === undefined) return nowHrTime();
  if (Array.isArray(t)) return t;
  return msToHrTime(t instanceof Date ? t.getTime() : t);
}

export function hrTimeToNanos(t: HrTime): string {
  const [sec, nanos] = t;
  if (sec === 0) return String(nanos);
  return `${sec}${String(nanos).padStart(9, '0')}`;
}
