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
  it("has no import cycle", () => {
    // The one inherent cycle (each Durable Object namespace typed with its class, which takes the
    // Env) lives in the generated worker-configuration.d.ts, outside src/.
    expect(cycles(graph)).toEqual([]);
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
