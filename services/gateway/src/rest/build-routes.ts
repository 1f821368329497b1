import type { ApiRoute } from "./api-route.js";

/** REST routes of builds, build logs, versions and tag history. */
export const buildRoutes: readonly ApiRoute[] = [];
