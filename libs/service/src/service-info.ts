import os from "node:os";

/** The Tailor release this code belongs to. */
export const TAILOR_VERSION = "0.1.0";

/** Identity of this service instance, as GetServiceInfo returns it. */
export function serviceInfo(name: string): { name: string; version: string; instance: string } {
  return { name, version: TAILOR_VERSION, instance: `${os.hostname()}:${process.pid}` };
}
