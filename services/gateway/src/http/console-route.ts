import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** The console's placeholder when no built console is configured: what runs and where to look. */
function consolePage(version: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Tailor</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1d2433}
code{background:#eef1f6;padding:.1rem .3rem;border-radius:3px}#health li{list-style:none}</style></head>
<body>
<h1>Tailor</h1>
<p>Customized, minimal container images from APK packages. Version ${version}.</p>
<p>The web console is on its way. Meanwhile: the REST API is described at
<a href="/api/openapi.json"><code>/api/openapi.json</code></a>, <a href="/healthz"><code>/healthz</code></a> shows every
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

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Paths the console never owns: they belong to the API, the registry and the repositories. */
const RESERVED = /^\/(api|v2|apk|token|healthz|metrics)(\/|$)/;

/**
 * The file under `root` a URL path names, or undefined when the path leaves
 * the root (`..`, encoded or not) or names a hidden file.
 */
export function consoleFile(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split("?")[0] ?? "/");
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const segments = decoded.split("/").filter((segment) => segment !== "");
  if (segments.some((segment) => segment === ".." || segment.startsWith("."))) return undefined;
  const base = resolve(root);
  const file = resolve(base, ...segments);
  return file === base || file.startsWith(`${base}${sep}`) ? file : undefined;
}

async function sendFile(reply: FastifyReply, file: string, immutable: boolean): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) return false;
  reply
    .header(
      "content-type",
      CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
    )
    .header("content-length", String(info.size))
    .header("x-content-type-options", "nosniff")
    .header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  await reply.send(createReadStream(file));
  return true;
}

/**
 * GET / and every path the API, registry and repositories do not own: the
 * console's static files from `consoleDir` (hashed assets under `assets/`
 * cached for a year, everything else revalidated), `index.html` for client
 * side routes; without a `consoleDir`, a placeholder page.
 */
export function registerConsoleRoute(
  app: FastifyInstance,
  version: string,
  consoleDir?: string,
): void {
  const page = consolePage(version);
  async function serve(request: FastifyRequest, reply: FastifyReply) {
    const path = request.url.split("?")[0] ?? "/";
    if (RESERVED.test(path)) {
      return reply
        .code(404)
        .type("application/json; charset=utf-8")
        .send({
          error: { code: "NOT_FOUND", message: `nothing at ${path}` },
          requestId: String(request.id),
        });
    }
    if (consoleDir === undefined) {
      if (path !== "/" && path !== "/index.html") {
        return reply.code(404).type("text/plain; charset=utf-8").send("not found\n");
      }
      return reply.type("text/html; charset=utf-8").send(page);
    }
    const file = consoleFile(consoleDir, path);
    if (file === undefined)
      return reply.code(404).type("text/plain; charset=utf-8").send("not found\n");
    if (path !== "/" && (await sendFile(reply, file, path.startsWith("/assets/")))) return reply;
    // A client-side route (no extension): the console's index.html decides.
    if (path === "/" || extname(path) === "") {
      const index = consoleFile(consoleDir, "/index.html");
      if (index !== undefined && (await sendFile(reply, index, false))) return reply;
    }
    return reply.code(404).type("text/plain; charset=utf-8").send("not found\n");
  }
  app.get("/", serve);
  app.setNotFoundHandler(async (request, reply) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return reply
        .code(404)
        .type("application/json; charset=utf-8")
        .send({
          error: {
            code: "NOT_FOUND",
            message: `no route ${request.method} ${request.url.split("?")[0]}`,
          },
          requestId: String(request.id),
        });
    }
    return serve(request, reply);
  });
}
