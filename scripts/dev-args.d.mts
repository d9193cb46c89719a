// Types of dev-args.mjs (plain JS so that `npm run dev` runs on Node without a TS loader).
export const DEV_PORT: string;
export function wranglerDevArgs(callerArgs: readonly string[], envFile: string): string[];
