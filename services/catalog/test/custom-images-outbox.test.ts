// A revision never exists without its event: when JetStream cannot take the
// event, the revision is still saved and its event waits in the outbox until
// a later flush publishes it under the same message id.
import { readFileSync } from "node:fs";
import { connectBus, events, streamName } from "@tailor/bus";
import { createOutboxRelay } from "@tailor/outbox";
import { testLogger, waitFor } from "@tailor/testing";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueCustomImageUpdated } from "../src/events/image-events.js";
import type { RunningCatalog } from "./support/start-catalog.js";
import { startCatalog } from "./support/start-catalog.js";
import { readEvents } from "./support/stored-events.js";
import type { FakeEntitlement } from "./support-images.js";
import { startFakeEntitlement } from "./support-images.js";

const ORG = "9a1f3a52-5d0e-4a51-9d7e-7a0c4c1f0c01";
const pythonYaml = readFileSync(
  new URL("../src/source-images/testdata/python-wolfi.yaml", import.meta.url),
  "utf8",
);

describe("the image event outbox", () => {
  let catalog: RunningCatalog;
  let entitlement: FakeEntitlement;
  let editor: ReturnType<RunningCatalog["auth"]>;

  beforeAll(async () => {
    catalog = await startCatalog();
    entitlement = await startFakeEntitlement(catalog.service.config);
    entitlement.organizations.set(ORG, {
      id: ORG,
      name: "acme",
      customAssemblyEnabled: true,
      customizableSourceImages: ["python"],
    });
    editor = catalog.auth(catalog.memberToken(ORG, "editor"));
    await catalog.client.putSourceImage({ name: "python", yaml: pythonYaml }, catalog.admin);
  });

  afterAll(async () => {
    await entitlement?.stop();
    await catalog?.stop();
  });

  it("keeps a revision's event while JetStream refuses it, and publishes it with the next flush", async () => {
    await catalog.client.createCustomImage(
      { orgId: ORG, name: "api", sourceImage: "python" },
      editor,
    );

    // Take the EVENTS stream away: publishing now fails (no stream takes the subject).
    const nc = await connect({ servers: catalog.nats.url });
    try {
      await (await nc.jetstreamManager()).streams.delete(
        streamName(catalog.nats.namespace, "EVENTS"),
      );
    } finally {
      await nc.close();
    }
    const updated = await catalog.client.updateCustomImage(
      { orgId: ORG, name: "api", overlay: { packages: ["curl"] }, comment: "while NATS refused" },
      editor,
    );
    expect(updated.customImage?.revision).toBe(2);
    const pending = await catalog.db.selectFrom("event_outbox").selectAll().execute();
    expect(pending.map((row) => row.msg_id)).toEqual([`custom-image.updated:${ORG}:api:2`]);
    expect(pending[0]?.attempts).toBeGreaterThan(0);
    expect(pending[0]?.last_error).toContain("custom-image.updated");

    // The stream is back (as after an operator fixes NATS); the next write flushes both.
    const bus = await connectBus({
      servers: catalog.nats.url,
      name: "outbox-test",
      logger: testLogger(),
      namespace: catalog.nats.namespace,
    });
    try {
      await bus.provision();
    } finally {
      await bus.close();
    }
    await catalog.client.updateCustomImage(
      { orgId: ORG, name: "api", overlay: { packages: ["jq"] } },
      editor,
    );
    const published = await readEvents(catalog.nats, events.customImageUpdated);
    expect(published.map((e) => e.msgId)).toEqual([
      `custom-image.updated:${ORG}:api:2`,
      `custom-image.updated:${ORG}:api:3`,
    ]);
    expect(published[0]?.event).toMatchObject({ revision: 2, author: "Member editor" });
    expect(await catalog.db.selectFrom("event_outbox").selectAll().execute()).toEqual([]);
  }, 30_000);

  it("a running relay publishes what is left in the outbox, once", async () => {
    const image = await catalog.client.getCustomImage({ orgId: ORG, name: "api" }, editor);
    const revision = image.customImage?.revision ?? 0;
    // An event left behind by a process that stopped right after its commit.
    await catalog.db.transaction().execute((trx) =>
      enqueueCustomImageUpdated(trx, {
        orgId: ORG,
        name: "api",
        sourceImage: "python",
        revision,
        overlay: {
          packages: [],
          environment: {},
          annotations: {},
          accounts: { users: [], groups: [], runAs: "" },
          certificates: [],
          repositories: [],
          keys: [],
        },
        author: { name: "Member editor", subject: "member-editor" },
        comment: "",
        createdAt: new Date(),
        imageCreatedAt: new Date(),
      }),
    );
    const bus = await connectBus({
      servers: catalog.nats.url,
      name: "relay-test",
      logger: testLogger(),
      namespace: catalog.nats.namespace,
    });
    const relay = createOutboxRelay({ db: catalog.db, bus, logger: testLogger() });
    const running = relay.start(50);
    try {
      await waitFor(
        async () =>
          (await catalog.db.selectFrom("event_outbox").selectAll().execute()).length === 0,
        { timeoutMs: 5000, message: "the relay did not empty the outbox" },
      );
    } finally {
      await running.stop();
      await bus.close();
    }
    // Already published by the RPC: JetStream dropped the repeat.
    const published = await readEvents(catalog.nats, events.customImageUpdated);
    expect(published.filter((e) => e.event.revision === revision)).toHaveLength(1);
  });
});
