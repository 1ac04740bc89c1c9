import type { DeliveryQueue } from './delivery-queue.js';
import type { SinkReport } from './sink-report.js';
import { adoptOrphans, rescanTail, type RecoveredSegment } from './spool-recovery.js';
import type { Segment, Spool, SpoolEntryRef } from './spool.js';

/**
 * What gone processes of this service left in the spool, queued for delivery: the folders
 * spool-recovery.ts adopts and reads, their damage reported and counted, and the acknowledgement
 * of each delivered line (an adopted segment that grew meanwhile is read again).
 */
export class SpoolAdoption {
  constructor(
    private readonly spool: Spool,
    private readonly queue: DeliveryQueue,
    private readonly report: SinkReport,
    private readonly ownerStaleMs: number,
  ) {}

  /** Adopts the folders of gone processes and queues what they left. */
  adopt(atStart: boolean): void {
    const found = adoptOrphans(this.spool, this.ownerStaleMs);
    if (found.folders.length === 0) return;
    let records = 0;
    for (const rec of found.segments) records += this.take(rec);
    if (records > 0) {
      const why = [...new Set(found.folders.map((f) => f.why))].join('; ');
      this.report.logger.warn(
        `found ${records} undelivered audit records from ${found.folders.length} earlier process(es) (${why}); delivering them${atStart ? ' first' : ''}`,
      );
    }
  }

  /** Records delivery of a spooled line. */
  ack(ref: SpoolEntryRef): void {
    let result;
    try {
      result = this.spool.ack(ref);
    } catch {
      return; // the segment is already gone
    }
    if (result !== 'grown') return;
    // An adopted segment grew: its owner was alive after all (its heartbeat had stalled).
    const tail = rescanTail(ref.segment);
    this.reportDamage(ref.segment, tail.damage, [], tail.entries.length);
    for (const r of tail.entries) this.queue.addReplay(r);
    if (tail.entries.length === 0) this.ack(ref);
  }

  private take(rec: RecoveredSegment): number {
    if (rec.unreadable !== undefined) {
      this.report.problem(`spool segment ${rec.segment.file} could not be read (${rec.unreadable}); it is left where it is and tried again at the next start`);
      return 0;
    }
    this.reportDamage(rec.segment, rec.damage, rec.notes, rec.entries.length);
    let records = 0;
    for (const ref of rec.entries) {
      this.queue.addReplay(ref);
      records += ref.spans;
    }
    // A damaged segment with nothing deliverable goes to the quarantine now. A clean one is left
    // for cleanAdopted(), which removes its folder only while nothing in it is undelivered (an
    // owner adopted after a stalled heartbeat may still be appending to it).
    if (rec.entries.length === 0 && rec.segment.damaged) this.spool.retire(rec.segment);
    return records;
  }

  private reportDamage(segment: Segment, damage: RecoveredSegment['damage'], notes: string[], intact: number): void {
    if (damage.length === 0 && notes.length === 0) return;
    const lost = damage.reduce((n, d) => n + d.records, 0);
    this.report.counters.damaged += lost;
    const parts = [
      ...damage.map((d) => `${d.what} at byte ${d.offset} (${d.bytes} bytes, ${d.records} record(s) lost${d.records === 1 ? ' at least' : ''})`),
      ...notes,
    ];
    const message =
      `spool segment ${segment.file} is damaged: ${parts.join('; ')}. ` +
      (lost > 0 ? `${lost} record(s) lost; ` : 'nothing lost; ') +
      `${intact} intact request(s) in it are delivered` +
      (damage.length > 0 ? `; the segment is then kept in ${this.spool.quarantineDir}` : '');
    this.report.logger.warn(message);
    if (lost > 0) this.report.lastError = message;
  }
}
