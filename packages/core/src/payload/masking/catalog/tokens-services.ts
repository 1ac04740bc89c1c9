import type { DetectorDef } from './detector-def.js';

export const SERVICE_TOKEN_DETECTORS: readonly DetectorDef[] = [];
