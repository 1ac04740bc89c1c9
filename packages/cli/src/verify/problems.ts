/** Problems reading a source: every one counts as a finding; the first 100 are kept to show. */
export class ProblemLog {
  static readonly KEEP = 100;
  readonly list: string[] = [];
  count = 0;

  add(message: string): void {
    this.count++;
    if (this.list.length < ProblemLog.KEEP) this.list.push(message);
  }
}
