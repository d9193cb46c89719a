/** Structured JSON logs, one object a line. Callers pass ids and counts, never secrets or bodies. */
type Fields = Record<string, string | number | boolean | null | undefined>;

export const LEVELS = ["debug", "info", "warn", "error"] as const;
export type Level = (typeof LEVELS)[number];

let threshold = LEVELS.indexOf("info");

/** Lines below this level are dropped (LOG_LEVEL; applied once the settings are read). */
export function setLogLevel(level: Level) {
  threshold = LEVELS.indexOf(level);
}

/** Whether lines of this level are written (so a hot path can skip building one that is not). */
export const logs = (level: Level) => LEVELS.indexOf(level) >= threshold;

function write(level: Level, msg: string, fields: Fields) {
  if (!logs(level)) return;
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

export const log = {
  debug: (msg: string, fields: Fields = {}) => write("debug", msg, fields),
  info: (msg: string, fields: Fields = {}) => write("info", msg, fields),
  warn: (msg: string, fields: Fields = {}) => write("warn", msg, fields),
  error: (msg: string, fields: Fields = {}) => write("error", msg, fields),
};
