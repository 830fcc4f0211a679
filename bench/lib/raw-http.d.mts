// Types of raw-http.mjs, for the suite's TypeScript (test/bench/raw-http.test.ts).
export const HOP: Set<string>;
export interface Head {
  first: string;
  headers: string[];
  rest: Buffer | undefined;
}
export function parseHead(head: string): Head;
export class HeadReader {
  text: string;
  push(chunk: Buffer): Head | undefined;
}
