/**
 * A push subscriber (Node side) for tests: a real HTTP consumer that records every delivery it
 * gets (headers and raw body) at `/<name>`, answering each with the status set for that name
 * (200 unless told otherwise: a down consumer is one answering 503; 0, one that never answers).
 * Tests drive it through
 * `/_subscriber/*`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface Delivery {
  headers: Record<string, string>;
  body: string;
  status: number;
}

export class Subscriber {
  private server?: Server;
  private received = new Map<string, Delivery[]>();
  private statuses = new Map<string, number>();

  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        res.writeHead(500);
        res.end();
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  async close() {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://subscriber");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const name = url.searchParams.get("name") ?? "";
    const answer = (status: number, json: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(json));
    };
    if (url.pathname === "/_subscriber/received") return answer(200, this.received.get(name) ?? []);
    if (url.pathname === "/_subscriber/status") {
      this.statuses.set(name, Number(url.searchParams.get("status")));
      return answer(200, {});
    }
    const target = url.pathname.slice(1);
    const status = this.statuses.get(target) ?? 200;
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    this.received.set(target, [...(this.received.get(target) ?? []), { headers, body, status }]);
    if (status === 0) return; // a hung consumer: never answers (the sender's timeout must end it)
    answer(status, {});
  }
}
