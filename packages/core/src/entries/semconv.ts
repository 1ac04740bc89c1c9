/** `@tooltrail/core/semconv`: every attribute, event, span name and value tooltrail records, in one place. */
export * from '../contract/semconv.js';
