/** Trail file names: `spans-<yyyymmdd>T<hhmmss>-<pid>-<n>.jsonl`, UTC. */
export const TRAIL_FILE_PATTERN = /^spans-(\d{8}T\d{6})-(\d+)-(\d+)\.jsonl$/;

export function trailFileName(date: Date, pid: number, n: number): string {
  const iso = date.toISOString(); // 2025-01-02T03:04:05.678Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return `spans-${stamp}-${pid}-${n}.jsonl`;
}
