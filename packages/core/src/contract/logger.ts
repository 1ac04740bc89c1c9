/** Where tooltrail's warnings go: one method, so pino, winston or console fit. */
export interface AuditLogger {
  warn(message: string): void;
}

export const consoleLogger: AuditLogger = {
  warn: (message) => console.warn(`[tooltrail] ${message}`),
};
