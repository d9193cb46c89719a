// Types of demo-data.mjs (plain JS so that `npm run seed` runs on Node without a TS loader).
export interface DemoEvent {
  id: string;
  event: string;
  data: Record<string, unknown> & { id?: string };
  created_at: string;
}
export const DEMO_DIRECTORY: string;
export const DEMO_ORGANIZATION: string;
export const people: string[];
export const groups: (Record<string, unknown> & { id: string; created_at: string })[];
export const events: DemoEvent[];
export function readSettings(file: string): Record<string, string>;
