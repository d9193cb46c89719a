/** vitest globalSetup (Node side): runs the WorkOS stand-in, and a push subscriber, for the sync test project. */
import type { TestProject } from "vitest/node";
import { STANDIN_KEY } from "./settings";
import { Subscriber } from "./subscriber";
import { WorkOSStandIn } from "./workos-standin";

export default async function setup(project: TestProject) {
  const standin = new WorkOSStandIn(STANDIN_KEY);
  const subscriber = new Subscriber();
  project.provide("standinUrl", await standin.listen());
  project.provide("subscriberUrl", await subscriber.listen());
  return async () => {
    await standin.close();
    await subscriber.close();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    standinUrl: string;
    subscriberUrl: string;
  }
}
