/** Warnings at the 1st, 10th, 100th... occurrence: a flood of them cannot flood the log. */
export function worthWarning(count: number): boolean {
  if (!Number.isInteger(count) || count < 1) return false;
  let n = count;
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}
