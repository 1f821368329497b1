/** Times as OCI documents write them. */
import { OciError } from "./errors.js";

/**
 * `date` as RFC 3339 UTC with seconds precision (`2024-01-02T03:04:05Z`);
 * milliseconds are dropped so a clock's sub-second noise never reaches a digest.
 * @throws OciError for an invalid date or a year outside 0000–9999.
 */
export function formatOciTimestamp(date: Date, what = "time"): string {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new OciError(`${what} is not a valid date`);
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  if (!/^\d{4}-/.test(iso)) throw new OciError(`${what} ${iso} is outside years 0000–9999`);
  return `${iso.slice(0, 19)}Z`;
}
