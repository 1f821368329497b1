// REST routes of builds, logs (paged and live as Server-Sent Events), cancel,
// rebuild, versions and tag history, end to end on the real services.
import { randomUUID } from "node:crypto";
import { builderV1 } from "@tailor/proto";
import { waitFor } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

interface BuildBody {
  id: string;
  organizationId: string;
  customImage: string;
  revision: number;
  trigger: string;
  status: string;
  upToDate: boolean;
  digests: Record<string, string>;
  tags: string[];
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  failure: { reason: string; message: string } | null;
  attempts?: number;
  lockedConfig?: {
    sourceImage: string;
    variants: { variant: string; arch: string; packages: { name: string; version: string }[] }[];
  } | null;
}

interface LogLineBody {
  seq: number;
  time: string;
  level: string;
  step: string;
  text: string;
}

interface ErrorBody {
  error: { code: string; message: string; field?: string; reason?: string };
  requestId: string;
}

/** One Server-Sent Event. */
interface ServerEvent {
  event: string;
  id: string | undefined;
  data: string;
}

describe("REST builds", () => {
  let platform: TestPlatform;
  /** acme's succeeded build of "rest-tools" with jq added. */
  let tools: builderV1.Build;
  /** The build that last moved rest-tools' tags (set by the rebuild test). */
  let lastPushed: string | undefined;

  /** Calls the gateway with `apiKey` as bearer token. */
  function api(apiKey: string, path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${platform.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${apiKey}`, ...(init.headers as Record<string, string>) },
    });
  }

  async function json<T>(response: Response, status: number): Promise<T> {
    const text = await response.text();
    expect(response.status, text).toBe(status);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    return JSON.parse(text) as T;
  }

  function post(apiKey: string, path: string, body?: unknown): Promise<Response> {
    return api(apiKey, path, {
      method: "POST",
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
  }

  /** Reconnection delays (`retry:` fields) the streams read by {@link readEvents} asked for. */
  const retries: number[] = [];

  /** Reads a whole event stream (it ends after the `end` event), as an EventSource dispatches it. */
  async function readEvents(response: Response): Promise<ServerEvent[]> {
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error("the event stream has no body");
    const decoder = new TextDecoder();
    const events: ServerEvent[] = [];
    let buffered = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let boundary = buffered.indexOf("\n\n");
      while (boundary >= 0) {
        const frame = buffered.slice(0, boundary);
        buffered = buffered.slice(boundary + 2);
        boundary = buffered.indexOf("\n\n");
        const event: ServerEvent = { event: "message", id: undefined, data: "" };
        let hasData = false;
        for (const line of frame.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event.event = value;
          else if (field === "id") event.id = value;
          else if (field === "retry") retries.push(Number(value));
          else if (field === "data") {
            event.data += hasData ? `\n${value}` : value;
            hasData = true;
          }
        }
        // Like an EventSource: a frame without data dispatches nothing.
        if (hasData) events.push(event);
      }
    }
    return events;
  }

  function linesOf(events: readonly ServerEvent[]): LogLineBody[] {
    return events
      .filter((event) => event.event === "line")
      .map((event) => JSON.parse(event.data) as LogLineBody);
  }

  async function allLogLines(apiKey: string, buildId: string): Promise<LogLineBody[]> {
    const lines: LogLineBody[] = [];
    let token: string | null = "";
    while (token !== null) {
      const query: string = token === "" ? "" : `?pageToken=${encodeURIComponent(token)}`;
      const page: { lines: LogLineBody[]; nextPageToken: string | null } = await json(
        await api(apiKey, `/api/v1/organizations/acme/builds/${buildId}/log${query}`),
        200,
      );
      lines.push(...page.lines);
      token = page.nextPageToken;
    }
    return lines;
  }

  /**
   * Waits until the build history (a read model fed by the builder's events)
   * lists build `id` as ended, as a user sees it a moment after the build.
   */
  async function recorded(id: string, image: string): Promise<void> {
    await waitFor(
      async () => {
        const page = await json<{ builds: BuildBody[] }>(
          await api(
            platform.acme.viewer.apiKey,
            `/api/v1/organizations/acme/builds?image=${image}`,
          ),
          200,
        );
        const build = page.builds.find((candidate) => candidate.id === id);
        return build !== undefined && build.status !== "queued" && build.status !== "running";
      },
      { timeoutMs: 30_000 },
    );
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    tools = await platform.buildImage("rest-tools", ["jq"]);
    expect(tools.failureMessage).toBe("");
    expect(tools.status).toBe(builderV1.BuildStatus.SUCCEEDED);
    await recorded(tools.id, "rest-tools");
  }, 240_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it("lists acme's builds of the last day, by organization name or id, with filters and pages", async () => {
    const key = platform.acme.viewer.apiKey;
    const listed = await json<{ builds: BuildBody[]; nextPageToken: string | null }>(
      await api(key, "/api/v1/organizations/acme/builds"),
      200,
    );
    const found = listed.builds.find((build) => build.id === tools.id);
    expect(found).toMatchObject({
      id: tools.id,
      organizationId: platform.acmeId,
      customImage: "rest-tools",
      status: "succeeded",
      trigger: "manual",
      upToDate: false,
      failure: null,
    });
    expect(found?.tags).toContain("latest");
    expect(Date.parse(found?.finishedAt ?? "")).toBeGreaterThan(Date.now() - 60 * 60 * 1000);

    const byId = await json<{ builds: BuildBody[] }>(
      await api(key, `/api/v1/organizations/${platform.acmeId}/builds?image=rest-tools`),
      200,
    );
    expect(byId.builds.map((build) => build.id)).toContain(tools.id);
    expect(new Set(byId.builds.map((build) => build.customImage))).toEqual(new Set(["rest-tools"]));

    const failed = await json<{ builds: BuildBody[] }>(
      await api(key, "/api/v1/organizations/acme/builds?status=failed"),
      200,
    );
    expect(failed.builds.map((build) => build.id)).not.toContain(tools.id);

    const future = new Date(Date.now() + 60 * 60 * 1000).toISOString();
    const none = await json<{ builds: BuildBody[] }>(
      await api(key, `/api/v1/organizations/acme/builds?since=${encodeURIComponent(future)}`),
      200,
    );
    expect(none.builds).toEqual([]);

    // A second build, so there are two pages of one.
    const other = await platform.buildImage("rest-pages", []);
    await recorded(other.id, "rest-pages");
    const first = await json<{ builds: BuildBody[]; nextPageToken: string | null }>(
      await api(key, "/api/v1/organizations/acme/builds?pageSize=1"),
      200,
    );
    expect(first.builds.map((build) => build.id)).toEqual([other.id]);
    expect(first.nextPageToken).toEqual(expect.any(String));
    const second = await json<{ builds: BuildBody[] }>(
      await api(
        key,
        `/api/v1/organizations/acme/builds?pageSize=1&pageToken=${encodeURIComponent(first.nextPageToken ?? "")}`,
      ),
      200,
    );
    expect(second.builds).toHaveLength(1);
    expect(second.builds[0]?.id).not.toBe(other.id);
  });

  it("refuses a bad filter naming the field", async () => {
    const body = await json<ErrorBody>(
      await api(platform.acme.viewer.apiKey, "/api/v1/organizations/acme/builds?status=great"),
      400,
    );
    expect(body.error.code).toBe("INVALID_ARGUMENT");
    expect(body.error.field).toBe("status");
    expect(body.error.message).toContain("status");
  });

  it("gets one build with its locked packages, digests and tags", async () => {
    const build = await json<BuildBody>(
      await api(platform.acme.viewer.apiKey, `/api/v1/organizations/acme/builds/${tools.id}`),
      200,
    );
    expect(build).toMatchObject({
      id: tools.id,
      customImage: "rest-tools",
      revision: tools.revision,
      status: "succeeded",
      upToDate: false,
      trigger: "manual",
      failure: null,
      attempts: 1,
    });
    expect(build.tags).toContain("latest");
    expect(Object.values(build.digests).every((digest) => digest.startsWith("sha256:"))).toBe(true);
    expect(Object.keys(build.digests).length).toBeGreaterThan(0);
    for (const time of [build.queuedAt, build.startedAt, build.finishedAt]) {
      expect(new Date(time ?? "").toISOString()).toBe(time);
    }
    expect(build.durationMs).toBeGreaterThanOrEqual(0);
    expect(build.lockedConfig?.sourceImage).toBe("toolbox");
    const image = build.lockedConfig?.variants.find((variant) => variant.variant === "image");
    expect(image?.packages.map((pkg) => pkg.name)).toEqual(
      expect.arrayContaining(["tool", "base-files", "jq"]),
    );
    expect(image?.packages.find((pkg) => pkg.name === "jq")?.version).toBe("1.6-r0");
  });

  it("answers 404 JSON for unknown and malformed build ids", async () => {
    const key = platform.acme.owner.apiKey;
    for (const id of [randomUUID(), "not-a-build"]) {
      const body = await json<ErrorBody>(
        await api(key, `/api/v1/organizations/acme/builds/${id}`),
        404,
      );
      expect(body.error.code).toBe("NOT_FOUND");
      expect(body.error.message).toContain(id);
      expect(body.requestId).toEqual(expect.any(String));
    }
    const unknownOrg = await json<ErrorBody>(
      await api(key, `/api/v1/organizations/nobody/builds/${tools.id}`),
      404,
    );
    expect(unknownOrg.error.code).toBe("NOT_FOUND");
  });

  it("pages a build's log, whose lines name the packages", async () => {
    const key = platform.acme.viewer.apiKey;
    const lines = await allLogLines(key, tools.id);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.map((line) => line.seq)).toEqual(lines.map((_, index) => index + 1));
    const text = lines.map((line) => line.text).join("\n");
    expect(text).toContain("jq");
    expect(text).toContain("tool");

    const page = await json<{ buildId: string; lines: LogLineBody[]; nextPageToken: string }>(
      await api(key, `/api/v1/organizations/acme/builds/${tools.id}/log?pageSize=2`),
      200,
    );
    expect(page.buildId).toBe(tools.id);
    expect(page.lines).toEqual(lines.slice(0, 2));
    const next = await json<{ lines: LogLineBody[] }>(
      await api(
        key,
        `/api/v1/organizations/acme/builds/${tools.id}/log?pageSize=2&pageToken=${encodeURIComponent(page.nextPageToken)}`,
      ),
      200,
    );
    expect(next.lines).toEqual(lines.slice(2, 4));
  });

  it("streams a finished build's log as events, ending with the build", async () => {
    const key = platform.acme.viewer.apiKey;
    const events = await readEvents(
      await api(key, `/api/v1/organizations/acme/builds/${tools.id}/log/stream`),
    );
    const stored = await allLogLines(key, tools.id);
    expect(linesOf(events)).toEqual(stored);
    expect(events.filter((event) => event.event === "line").map((event) => event.id)).toEqual(
      stored.map((line) => String(line.seq)),
    );
    const end = events.at(-1);
    expect(end?.event).toBe("end");
    expect(JSON.parse(end?.data ?? "{}")).toMatchObject({ id: tools.id, status: "succeeded" });

    // An EventSource reconnecting with Last-Event-ID gets only the lines after it.
    const resumed = await readEvents(
      await api(key, `/api/v1/organizations/acme/builds/${tools.id}/log/stream`, {
        headers: { "last-event-id": "2" },
      }),
    );
    expect(linesOf(resumed)).toEqual(stored.slice(2));
    expect(resumed.at(-1)?.event).toBe("end");
    // Every stream told the EventSource when to reconnect.
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries.every((delay) => Number.isInteger(delay) && delay > 0)).toBe(true);
  });

  it("answers 204 to a reconnect after the last line of an ended build, so an EventSource stops", async () => {
    const key = platform.acme.viewer.apiKey;
    const stored = await allLogLines(key, tools.id);
    const last = stored.at(-1)?.seq ?? 0;
    const path = `/api/v1/organizations/acme/builds/${tools.id}/log/stream`;
    for (const resume of [
      { headers: { "last-event-id": String(last) } },
      { headers: { "last-event-id": String(last + 5) } },
    ]) {
      const response = await api(key, path, resume);
      expect(response.status).toBe(204);
      expect(await response.text()).toBe("");
    }
    const after = await api(key, `${path}?after=${last}`);
    expect(after.status).toBe(204);
    // One line before the end still streams it and the end.
    const one = await readEvents(
      await api(key, path, { headers: { "last-event-id": String(last - 1) } }),
    );
    expect(linesOf(one)).toEqual(stored.slice(-1));
    expect(one.at(-1)?.event).toBe("end");
  });

  it("follows a running build's log live until it ends", async () => {
    const { build } = await platform.builder.requestBuild(
      { orgId: platform.acmeId, customImage: "rest-tools", trigger: "" },
      platform.acme.editor.call,
    );
    const id = build?.id ?? "";
    const events = await readEvents(
      await api(platform.acme.viewer.apiKey, `/api/v1/organizations/acme/builds/${id}/log/stream`),
    );
    const lines = linesOf(events);
    expect(lines.map((line) => line.text).join("\n")).toContain("jq");
    const end = events.at(-1);
    expect(end?.event).toBe("end");
    expect(JSON.parse(end?.data ?? "{}")).toMatchObject({ id, status: "succeeded" });
    // Every stored line arrived exactly once (a line stored late may come after later ones).
    const bySeq = [...lines].sort((a, b) => a.seq - b.seq);
    expect(bySeq).toEqual(await allLogLines(platform.acme.viewer.apiKey, id));
    // Event ids are resume points: they never go back.
    const ids = events.filter((event) => event.event === "line").map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.at(-1)).toBe(bySeq.length);
  });

  it("says 409 when cancelling a build that already ended", async () => {
    const body = await json<ErrorBody>(
      await post(
        platform.acme.editor.apiKey,
        `/api/v1/organizations/acme/builds/${tools.id}/cancel`,
      ),
      409,
    );
    expect(body.error.code).toBe("FAILED_PRECONDITION");
    expect(body.error.message).toContain("already ended");
  });

  it("cancels a queued build; its log stream ends with the cancelled build", async () => {
    // More builds than the builder's two workers: the last one waits in the queue.
    const queued: string[] = [];
    for (let index = 0; index < 4; index++) {
      const { build } = await platform.builder.requestBuild(
        { orgId: platform.acmeId, customImage: "rest-tools", trigger: "" },
        platform.acme.editor.call,
      );
      queued.push(build?.id ?? "");
    }
    const last = queued.at(-1) ?? "";
    const cancelled = await json<BuildBody>(
      await post(platform.acme.editor.apiKey, `/api/v1/organizations/acme/builds/${last}/cancel`),
      200,
    );
    expect(cancelled).toMatchObject({ id: last, status: "cancelled" });
    for (const id of queued) await platform.finished(id);

    const again = await json<BuildBody>(
      await api(platform.acme.viewer.apiKey, `/api/v1/organizations/acme/builds/${last}`),
      200,
    );
    expect(again.status).toBe("cancelled");
    expect(again.tags).toEqual([]);
    const events = await readEvents(
      await api(
        platform.acme.viewer.apiKey,
        `/api/v1/organizations/acme/builds/${last}/log/stream`,
      ),
    );
    expect(events.at(-1)?.event).toBe("end");
    expect(JSON.parse(events.at(-1)?.data ?? "{}")).toMatchObject({
      id: last,
      status: "cancelled",
    });
  });

  it("rebuilds: a new build of the same revision that finishes", async () => {
    const response = await post(
      platform.acme.editor.apiKey,
      `/api/v1/organizations/acme/builds/${tools.id}/rebuild`,
    );
    const queued = await json<BuildBody>(response, 202);
    expect(queued.id).not.toBe(tools.id);
    expect(queued).toMatchObject({
      customImage: "rest-tools",
      revision: tools.revision,
      trigger: `rebuild:${tools.id}`,
    });
    expect(response.headers.get("location")).toBe(`/api/v1/organizations/acme/builds/${queued.id}`);
    await platform.finished(queued.id);
    const done = await json<BuildBody>(
      await api(platform.acme.viewer.apiKey, `/api/v1/organizations/acme/builds/${queued.id}`),
      200,
    );
    // Nothing changed since the last successful build, so the builder had nothing to assemble.
    expect(done).toMatchObject({ status: "succeeded", upToDate: true, failure: null });

    const forced = await json<BuildBody>(
      await post(
        platform.acme.owner.apiKey,
        `/api/v1/organizations/acme/builds/${tools.id}/rebuild?force=true`,
      ),
      202,
    );
    expect(forced.trigger).toBe("manual");
    await platform.finished(forced.id);
    const built = await json<BuildBody>(
      await api(platform.acme.viewer.apiKey, `/api/v1/organizations/acme/builds/${forced.id}`),
      200,
    );
    expect(built).toMatchObject({ status: "succeeded", upToDate: false });
    expect(built.tags).toContain("latest");
    lastPushed = built.id;
  });

  it("lists versions and tag history showing the build", async () => {
    const key = platform.acme.viewer.apiKey;
    type Versions = {
      customImage: string;
      versions: { tag: string; buildId: string; digests: Record<string, string> }[];
    };
    const path = "/api/v1/organizations/acme/custom-images/rest-tools/versions";
    // The history records a tag move a moment after the build ended.
    const versions = await waitFor(async () => {
      const answer = await json<Versions>(await api(key, path), 200);
      const latest = answer.versions.find((version) => version.tag === "latest");
      return latest?.buildId === (lastPushed ?? tools.id) ? answer : undefined;
    });
    expect(versions.customImage).toBe("rest-tools");
    const latest = versions.versions.find((version) => version.tag === "latest");
    expect(Object.keys(latest?.digests ?? {}).length).toBeGreaterThan(0);

    const history = await json<{
      tag: string;
      moves: { buildId: string; movedAt: string; digests: Record<string, string> }[];
    }>(
      await api(key, "/api/v1/organizations/acme/custom-images/rest-tools/tags/latest/history"),
      200,
    );
    expect(history.tag).toBe("latest");
    expect(history.moves.map((move) => move.buildId)).toContain(tools.id);
    expect(history.moves[0]?.buildId).toBe(latest?.buildId);
    const times = history.moves.map((move) => Date.parse(move.movedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("answers 404 for an unknown custom image or tag", async () => {
    const key = platform.acme.viewer.apiKey;
    const image = await json<ErrorBody>(
      await api(key, "/api/v1/organizations/acme/custom-images/nothing-here/versions"),
      404,
    );
    expect(image.error.message).toContain("nothing-here");
    const tag = await json<ErrorBody>(
      await api(key, "/api/v1/organizations/acme/custom-images/rest-tools/tags/v0-never/history"),
      404,
    );
    expect(tag.error.message).toContain("v0-never");
  });

  it("lets a viewer read but not cancel or rebuild", async () => {
    const key = platform.acme.viewer.apiKey;
    for (const action of ["cancel", "rebuild"]) {
      const body = await json<ErrorBody>(
        await post(key, `/api/v1/organizations/acme/builds/${tools.id}/${action}`),
        403,
      );
      expect(body.error.code).toBe("PERMISSION_DENIED");
      expect(body.error.message).toContain("viewer");
    }
  });

  it("hides every acme build, log, stream, version and tag from globex (404)", async () => {
    const key = platform.globex.owner.apiKey;
    const routes: [method: "GET" | "POST", path: string][] = [];
    for (const org of ["acme", platform.acmeId]) {
      const builds = `/api/v1/organizations/${org}/builds`;
      const images = `/api/v1/organizations/${org}/custom-images/rest-tools`;
      routes.push(
        ["GET", builds],
        ["GET", `${builds}/${tools.id}`],
        ["GET", `${builds}/${tools.id}/log`],
        ["GET", `${builds}/${tools.id}/log/stream`],
        ["POST", `${builds}/${tools.id}/cancel`],
        ["POST", `${builds}/${tools.id}/rebuild`],
        ["GET", `${images}/versions`],
        ["GET", `${images}/tags/latest/history`],
      );
    }
    // acme's build through globex's own organization.
    for (const suffix of ["", "/log", "/log/stream", "/cancel", "/rebuild"]) {
      const method = suffix === "/cancel" || suffix === "/rebuild" ? "POST" : "GET";
      routes.push([method, `/api/v1/organizations/globex/builds/${tools.id}${suffix}`]);
    }
    routes.push(["GET", "/api/v1/organizations/globex/custom-images/rest-tools/versions"]);
    for (const [method, path] of routes) {
      const response = await api(key, path, { method });
      const body = (await response.json()) as ErrorBody;
      expect({ method, path, status: response.status, code: body.error?.code }).toEqual({
        method,
        path,
        status: 404,
        code: "NOT_FOUND",
      });
    }
    // acme's builds are unaffected.
    const build = await json<BuildBody>(
      await api(platform.acme.viewer.apiKey, `/api/v1/organizations/acme/builds/${tools.id}`),
      200,
    );
    expect(build.status).toBe("succeeded");
  });

  it("asks for credentials", async () => {
    const response = await fetch(`${platform.url}/api/v1/organizations/acme/builds`);
    const body = await json<ErrorBody>(response, 401);
    expect(body.error.code).toBe("UNAUTHENTICATED");
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
  });
});
