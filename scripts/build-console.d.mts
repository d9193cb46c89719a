// Types of build-console.mjs (plain JS: wrangler's build step runs it with Node, no TS loader).
export function buildConsole(): void;
