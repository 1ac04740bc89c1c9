import { SPAN_KINDS, STATUS_CODES } from './json-fields.js';
import { type JsonScan, giveUp } from './json-scan.js';
import { QUOTE, attributes, enumValue, hexId, list, once, stringJson, uint32, uint64 } from './json-fast-values.js';

/** A span of the OTLP/JSON fast path (json-fast-lines.ts): its line's fields, its events, links and status. */

/** A span's fields after `r` and `s`, in line order (as json-lines.ts writes them). */
export function span(s: JsonScan): string {
  let traceId = '';
  let spanId = '';
  let parent = '';
  let traceState = '""';
  let flags = 0;
  let name = '""';
  let kind = 0;
  let start = '0';
  let end = '0';
  let attrs = '{}';
  let dropped = 0;
  let events = '';
  let droppedEvents = 0;
  let links = '';
  let droppedLinks = 0;
  let status = '{"code":0}';
  let seen = 0;
  if (s.obj()) {
    do {
      switch (s.key()) {
        case 'traceId': seen = once(seen, 1); traceId = hexId(s, 32); break;
        case 'spanId': seen = once(seen, 2); spanId = hexId(s, 16); break;
        case 'parentSpanId': seen = once(seen, 4); parent = s.peek() === QUOTE && s.t.charCodeAt(s.i + 1) === QUOTE ? (s.raw(), '') : hexId(s, 16); break;
        case 'traceState': seen = once(seen, 8); traceState = stringJson(s); break;
        case 'flags': seen = once(seen, 16); flags = uint32(s); break;
        case 'name': seen = once(seen, 32); name = stringJson(s); break;
        case 'kind': seen = once(seen, 64); kind = enumValue(s, SPAN_KINDS, 5); break;
        case 'startTimeUnixNano': seen = once(seen, 128); start = uint64(s); break;
        case 'endTimeUnixNano': seen = once(seen, 256); end = uint64(s); break;
        case 'attributes': seen = once(seen, 512); attrs = attributes(s, 1).json(); break;
        case 'droppedAttributesCount': seen = once(seen, 1024); dropped = uint32(s); break;
        case 'events': seen = once(seen, 2048); events = list(s, event); break;
        case 'droppedEventsCount': seen = once(seen, 4096); droppedEvents = uint32(s); break;
        case 'links': seen = once(seen, 8192); links = list(s, link); break;
        case 'droppedLinksCount': seen = once(seen, 16384); droppedLinks = uint32(s); break;
        case 'status': seen = once(seen, 32768); status = statusJson(s); break;
        default: s.skip();
      }
    } while (s.more());
  }
  if (!traceId || !spanId) giveUp();
  let line = `"traceId":"${traceId}","spanId":"${spanId}"`;
  if (parent) line += `,"parentSpanId":"${parent}"`;
  if (traceState !== '""') line += `,"traceState":${traceState}`;
  if (flags) line += `,"flags":${flags}`;
  line += `,"name":${name},"kind":${kind},"startTimeUnixNano":"${start}","endTimeUnixNano":"${end}","attributes":${attrs}`;
  if (dropped) line += `,"droppedAttributesCount":${dropped}`;
  line += `,"events":[${events}]`;
  if (droppedEvents) line += `,"droppedEventsCount":${droppedEvents}`;
  line += `,"links":[${links}]`;
  if (droppedLinks) line += `,"droppedLinksCount":${droppedLinks}`;
  return `${line},"status":${status}}`;
}

function event(s: JsonScan): string {
  let time = '0';
  let name = '""';
  let attrs = '{}';
  let dropped = 0;
  let seen = 0;
  if (s.obj()) {
    do {
      const k = s.key();
      if (k === 'timeUnixNano') (seen = once(seen, 1)), (time = uint64(s));
      else if (k === 'name') (seen = once(seen, 2)), (name = stringJson(s));
      else if (k === 'attributes') (seen = once(seen, 4)), (attrs = attributes(s, 1).json());
      else if (k === 'droppedAttributesCount') (seen = once(seen, 8)), (dropped = uint32(s));
      else s.skip();
    } while (s.more());
  }
  const out = `{"timeUnixNano":"${time}","name":${name},"attributes":${attrs}`;
  return dropped ? `${out},"droppedAttributesCount":${dropped}}` : `${out}}`;
}

function link(s: JsonScan): string {
  let traceId = '';
  let spanId = '';
  let traceState = '""';
  let attrs = '{}';
  let dropped = 0;
  let flags = 0;
  let seen = 0;
  if (s.obj()) {
    do {
      const k = s.key();
      if (k === 'traceId') (seen = once(seen, 1)), (traceId = hexId(s, 32));
      else if (k === 'spanId') (seen = once(seen, 2)), (spanId = hexId(s, 16));
      else if (k === 'traceState') (seen = once(seen, 4)), (traceState = stringJson(s));
      else if (k === 'attributes') (seen = once(seen, 8)), (attrs = attributes(s, 1).json());
      else if (k === 'droppedAttributesCount') (seen = once(seen, 16)), (dropped = uint32(s));
      else if (k === 'flags') (seen = once(seen, 32)), (flags = uint32(s));
      else s.skip();
    } while (s.more());
  }
  if (!traceId || !spanId) giveUp();
  let out = `{"traceId":"${traceId}","spanId":"${spanId}"`;
  if (traceState !== '""') out += `,"traceState":${traceState}`;
  out += `,"attributes":${attrs}`;
  if (dropped) out += `,"droppedAttributesCount":${dropped}`;
  return flags ? `${out},"flags":${flags}}` : `${out}}`;
}

function statusJson(s: JsonScan): string {
  let code = 0;
  let message = '""';
  let seen = 0;
  if (s.obj()) {
    do {
      const k = s.key();
      if (k === 'code') (seen = once(seen, 1)), (code = enumValue(s, STATUS_CODES, 2));
      else if (k === 'message') (seen = once(seen, 2)), (message = stringJson(s));
      else s.skip();
    } while (s.more());
  }
  return message !== '""' ? `{"code":${code},"message":${message}}` : `{"code":${code}}`;
}

