// The refusal helpers are shared by every adapter and live in core.
export { isRefusal, isDenial, defaultRefusalMessage, type RefusedCall } from '@tooltrail/core';
