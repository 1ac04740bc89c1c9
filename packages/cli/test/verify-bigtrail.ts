import { createHash, createHmac, type KeyObject } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { TrailRecord } from '../src/trail/record.js';
import { checkpointRecord, craftStream, type CpFields } from './verify-fixtures.js';

/**
 * A big, valid trail file, fast: one stream of `records` chained records (the stream start and
 * then tool calls), MAC'd, with a signed checkpoint every `every` records and a stream end.
 * Records after the first are written from a template of their canonical encoding and their
 * line (the same bytes trailToCanonical + canonicalRecordJson give for the parsed line: the
 * verify run that reads them checks exactly that), so a million records take seconds.
 */
export interface BigTrailOptions {
  file: string;
  streamId: string;
  records: number;
  every: number;
  macKey: string;
  signingKey: KeyObject;
  signingKeyId: string;
  /** Bytes of padding per record (an attribute value). */
  pad: number;
}

const BASE_NS = 1_795_280_400_000_000_000n;

export function writeBigTrail(o: BigTrailOptions): { bytes: number; lines: number } {
  const fd = openSync(o.file, 'w');
  let pending: string[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  let lines = 0;
  const emit = (line: string) => {
    pending.push(line, '\n');
    pendingBytes += line.length + 1;
    lines++;
    if (pendingBytes > 4 * 1024 * 1024) flush();
  };
  const flush = () => {
    const buf = Buffer.from(pending.join(''), 'utf8');
    writeSync(fd, buf);
    bytes += buf.length;
    pending = [];
    pendingBytes = 0;
  };
  const [start] = craftStream({ streamId: o.streamId, service: 'big-agent', records: 0, macKey: o.macKey, end: false }) as [TrailRecord];
  emit(JSON.stringify(start));
  let prev = start.attributes['tooltrail.hash'] as string;
  let checkpointed = 0;
  let index = 0;
  let prevSignature = '';
  const pad = 'p'.repeat(o.pad);
  const sid = o.streamId;
  for (let seq = 2; seq <= o.records; seq++) {
    const traceId = seq.toString(16).padStart(32, '0');
    const spanId = (seq + 0x10000).toString(16).padStart(16, '0');
    const t0 = (BASE_NS + BigInt(seq) * 1_000_000n).toString();
    const t1 = (BASE_NS + BigInt(seq) * 1_000_000n + 500_000n).toString();
    const canonical = `["tooltrail-record-v1","${traceId}","${spanId}","","execute_tool step",1,"${t0}","${t1}",1,"",[["gen_ai.tool.call.result","${pad}"],["gen_ai.tool.name","step"],["tooltrail.outcome","ok"],["tooltrail.prev_hash","${prev}"],["tooltrail.seq",${seq}],["tooltrail.stream.id","${sid}"]],[]]`;
    const hash = createHash('sha256').update(canonical).digest('hex');
    const mac = createHmac('sha256', o.macKey).update(hash).digest('hex');
    emit(
      `{"receivedAt":"2026-11-21T08:00:00.000Z","resource":{"service.name":"big-agent"},"scope":{"name":"tooltrail","version":"0.1.0"},"traceId":"${traceId}","spanId":"${spanId}","name":"execute_tool step","kind":1,"startTimeUnixNano":"${t0}","endTimeUnixNano":"${t1}","attributes":{"gen_ai.tool.name":"step","tooltrail.outcome":"ok","gen_ai.tool.call.result":"${pad}","tooltrail.stream.id":"${sid}","tooltrail.seq":${seq},"tooltrail.prev_hash":"${prev}","tooltrail.hash":"${hash}","tooltrail.mac":"${mac}"},"events":[],"links":[],"status":{"code":1}}`,
    );
    prev = hash;
    const final = seq === o.records;
    if (seq - checkpointed >= o.every || final) {
      const c: CpFields = { streamId: sid, index: ++index, seqStart: checkpointed + 1, seqEnd: seq, lastHash: prev, prevSignature, final };
      const r = checkpointRecord('big-agent', c, o.signingKey, o.signingKeyId, Date.UTC(2026, 10, 21));
      prevSignature = r.attributes['tooltrail.checkpoint.signature'] as string;
      checkpointed = seq;
      emit(JSON.stringify(r));
    }
  }
  flush();
  closeSync(fd);
  return { bytes, lines };
}
