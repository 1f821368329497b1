/** Body of the gateway's GET /healthz. */
export interface HealthReport {
  status: string;
  services: Record<string, { status: string; address: string; latencyMs: number; error?: string }>;
}

/** Renders a health report as aligned lines, one per service. */
export function formatHealth(report: HealthReport): string {
  const names = Object.keys(report.services);
  const width = Math.max(...names.map((n) => n.length), 7);
  const lines = names.map((name) => {
    const s = report.services[name];
    const detail = s?.error === undefined ? `${s?.latencyMs} ms` : s.error;
    return `${name.padEnd(width)}  ${(s?.status ?? "?").padEnd(15)} ${s?.address ?? ""}  ${detail}`;
  });
  return [...lines, `${"overall".padEnd(width)}  ${report.status}`].join("\n");
}

/** Asks the gateway for every service's health; exit code 0 when all serve. */
export async function healthCommand(
  gatewayUrl: string,
): Promise<{ text: string; exitCode: number }> {
  let response: Response;
  try {
    response = await fetch(new URL("/healthz", gatewayUrl), {
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { text: `tailorctl: cannot reach the gateway at ${gatewayUrl}: ${reason}`, exitCode: 2 };
  }
  const report = (await response.json()) as HealthReport;
  return { text: formatHealth(report), exitCode: report.status === "SERVING" ? 0 : 1 };
}
