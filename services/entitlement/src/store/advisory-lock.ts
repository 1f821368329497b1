import type { Transaction } from "@tailor/db";
import { sql } from "@tailor/db";

/**
 * Takes a transaction-scoped advisory lock named `name` (released at commit
 * or rollback), so replicas doing the same one-time work take turns.
 */
export async function takeAdvisoryLock<DB>(trx: Transaction<DB>, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(trx);
}
