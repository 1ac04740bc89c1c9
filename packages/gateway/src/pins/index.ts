export { ToolPins, type PinChange, type ToolPinsOptions, type ToolPinsStatus } from './tool-pins.js';
export { canonicalJson, definitionHash, type PinnedDefinition } from './canonical-json.js';
export { parsePins, readPinsFile, writePinsFile, formatPins, PINS_FILE_VERSION, type PinTable } from './pins-file.js';
export { pinChangeRecord, pinChangeReason, toolChangedEvent, PINS_REFUSED_BY, ATTR_PIN_OLD, ATTR_PIN_NEW, ATTR_PIN_ACTION, type RefusalRecorder, type PinnedCall } from './pin-record.js';
