import { appendFileSync } from 'node:fs';
export function T(label: string): void { const f = process.env.BF_TRACE; if (f) appendFileSync(f, `${Date.now()} ${label}\n`); }
