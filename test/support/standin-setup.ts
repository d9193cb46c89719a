/** vitest globalSetup (Node side): runs the WorkOS stand-in for the sync test project. */
import type { TestProject } from "vitest/node";
import { STANDIN_KEY } from "./settings";
import { WorkOSStandIn } from "./workos-standin";

export default async function setup(project: TestProject) {
  const standin = new WorkOSStandIn(STANDIN_KEY);
  project.provide("standinUrl", await standin.listen());
  return () => standin.close();
}

declare module "vitest" {
  export interface ProvidedContext {
    standinUrl: string;
  }
}
