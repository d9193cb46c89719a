/**
 * The arguments `npm run dev` passes to `wrangler dev`: its defaults, each only where the
 * caller did not give that flag (wrangler refuses a flag given twice, e.g. `--port`).
 */
export const DEV_PORT = "8787";

/** Whether `args` sets `flag`, as `--flag value` or `--flag=value`. */
const gives = (args, flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));

export function wranglerDevArgs(callerArgs, envFile) {
  const defaults = [
    ["--port", DEV_PORT],
    ["--env-file", envFile],
  ].filter(([flag]) => !gives(callerArgs, flag));
  return ["dev", ...defaults.flat(), ...callerArgs];
}
