import type { DetectorDef } from './detector-def.js';

export const INFRA_TOKEN_DETECTORS: readonly DetectorDef[] = [];
