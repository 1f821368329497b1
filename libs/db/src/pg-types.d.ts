// Minimal typings for the parts of `pg` this package touches. @types/pg is not
// installed in the workspace; nothing here leaks into the public API.
declare module "pg" {
  import type { PostgresPool, PostgresPoolClient } from "kysely";

  export interface PoolConfig {
    connectionString?: string;
    max?: number;
    connectionTimeoutMillis?: number;
    idleTimeoutMillis?: number;
    application_name?: string;
  }

  export class Pool implements PostgresPool {
    constructor(config?: PoolConfig);
    connect(): Promise<PostgresPoolClient>;
    end(): Promise<void>;
    on(event: "error", listener: (error: Error) => void): this;
  }

  const pg: { Pool: typeof Pool };
  export default pg;
}
