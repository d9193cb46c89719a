/**
 * Imports flow down the data path (ARCHITECTURE.md): the entry imports the app, the app its
 * routes, routes the modules below them; nothing imports upward.
 */
import { describe, expect, it } from "vitest";
import { cycles, importGraph } from "./import-graph";

const graph = importGraph();
const importersOf = (target: (m: string) => boolean) =>
  [...graph].filter(([, deps]) => [...deps].some(target)).map(([m]) => m);

describe("import layering of src/", () => {
  it("has no import cycle, but for the binding types naming the Durable Object classes", () => {
    // env.ts types each Durable Object namespace with its class (as `wrangler types` would),
    // and those classes take the Env: the one cycle that is inherent, and types only.
    expect(cycles(graph).filter((c) => !c.includes("env"))).toEqual([]);
  });

  it("routes are imported by the app alone, and the app by the entry alone", () => {
    expect(importersOf((m) => m.startsWith("routes/")).filter((m) => !m.startsWith("routes/"))).toEqual(["app"]);
    expect(importersOf((m) => m === "app")).toEqual(["index"]);
  });

  it("reads the graph it checks", () => {
    expect(graph.get("app")).toContain("routes/users");
    expect(graph.get("index")).toContain("app");
  });
});
