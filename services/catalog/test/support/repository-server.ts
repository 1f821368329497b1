// A static HTTP server for APK repository directories (node:http on port 0),
// recording every request so tests can tell whether a download happened.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize, sep } from "node:path";

/** A running repository server. */
export interface RepositoryServer {
  /** `http://127.0.0.1:<port>`; a repository in `<root>/<dir>` is at `${url}/<dir>`. */
  readonly url: string;
  /** Paths requested so far, in order (decoded, e.g. `/alpine/x86_64/APKINDEX.tar.gz`). */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Serves the files under `root` (symlinks followed); anything else answers 404. */
export async function serveRepositories(root: string): Promise<RepositoryServer> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
      requests.push(path);
      const file = normalize(join(root, path));
      if (!file.startsWith(root + sep)) {
        response.writeHead(403).end();
        return;
      }
      try {
        const info = await stat(file);
        if (!info.isFile()) throw new Error("not a file");
        response.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": info.size,
        });
        createReadStream(file).pipe(response);
      } catch {
        response.writeHead(404).end("not found");
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
