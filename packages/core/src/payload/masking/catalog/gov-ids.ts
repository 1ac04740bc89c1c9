import type { DetectorDef } from './detector-def.js';

export const GOV_ID_DETECTORS: readonly DetectorDef[] = [];
