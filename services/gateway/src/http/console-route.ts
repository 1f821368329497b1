import type { FastifyInstance } from "fastify";

/** The console's placeholder until the web console lands: what runs and where to look. */
function consolePage(version: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Tailor</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1d2433}
code{background:#eef1f6;padding:.1rem .3rem;border-radius:3px}#health li{list-style:none}</style></head>
<body>
<h1>Tailor</h1>
<p>Customized, minimal container images from APK packages. Version ${version}.</p>
<p>The web console is on its way. Meanwhile: <a href="/healthz"><code>/healthz</code></a> shows every
service, <a href="/metrics"><code>/metrics</code></a> serves Prometheus metrics.</p>
<h2>Services</h2>
<ul id="health"><li>checking…</li></ul>
<script>
fetch("/healthz").then(r => r.json()).then(h => {
  const ul = document.getElementById("health");
  ul.innerHTML = "";
  for (const [name, s] of Object.entries(h.services)) {
    const li = document.createElement("li");
    li.textContent = (s.status === "SERVING" ? "\\u2705 " : "\\u274c ") + name + " \\u2014 " + s.status;
    ul.appendChild(li);
  }
});
</script>
</body>
</html>
`;
}

/** GET /: the console (a placeholder page for now). */
export function registerConsoleRoute(app: FastifyInstance, version: string): void {
  const page = consolePage(version);
  app.get("/", async (_request, reply) => reply.type("text/html; charset=utf-8").send(page));
}
