// Source images (readable by everyone authenticated) and an organization's
// custom images with their revision history. Changing a custom image and
// building it is the customize API's job (customize-routes.ts).
import type { ApiRoute } from "./api-route.js";
import { apiPath } from "./api-route.js";
import { organizationOf } from "./organization-ref.js";
import { ORG_PARAM } from "./organizations-routes.js";
import type { OverlayInput } from "./representations.js";
import {
  arrayOf,
  CUSTOM_IMAGE_SCHEMA,
  customImageJson,
  mergedOverlay,
  OVERLAY_INPUT_SCHEMA,
  requestObject,
  responseObject,
  SOURCE_IMAGE_SCHEMA,
  sourceImageJson,
} from "./representations.js";
import { answered } from "./service-answer.js";

/** Description of the `{image}` path parameter. */
export const IMAGE_PARAM = "the custom image's name";

/** Schema of a custom image name in requests. */
export const CUSTOM_IMAGE_NAME_SCHEMA = {
  type: "string",
  minLength: 1,
  maxLength: 128,
  description: "lowercase letters, digits, '-' and '_'",
};

/** REST routes of source images and custom images. */
export const imageRoutes: readonly ApiRoute[] = [
  {
    method: "GET",
    path: "/api/v1/source-images",
    operationId: "listSourceImages",
    summary: "List source images",
    tags: ["source-images"],
    response: {
      description: "Source images by name (without their YAML).",
      schema: responseObject(undefined, "Source images.", {
        sourceImages: arrayOf(SOURCE_IMAGE_SCHEMA),
      }),
    },
    async handler({ deps, call }) {
      const { sourceImages } = await deps.catalog.listSourceImages({}, call);
      return { sourceImages: sourceImages.map((image) => sourceImageJson(image, false)) };
    },
  },
  {
    method: "GET",
    path: "/api/v1/source-images/{name}",
    operationId: "getSourceImage",
    summary: "Get a source image",
    description: "With its packages and the YAML it was defined from.",
    tags: ["source-images"],
    params: { name: "the source image's name" },
    response: { description: "The source image.", schema: SOURCE_IMAGE_SCHEMA },
    async handler({ deps, params, call }) {
      const { sourceImage } = await deps.catalog.getSourceImage({ name: params.name ?? "" }, call);
      return sourceImageJson(answered(sourceImage, "the source image"), true);
    },
  },
  {
    method: "GET",
    path: "/api/v1/organizations/{org}/custom-images",
    operationId: "listCustomImages",
    summary: "List the organization's custom images",
    tags: ["custom-images"],
    params: { org: ORG_PARAM },
    response: {
      description: "The latest revision of each custom image, by name.",
      schema: responseObject(undefined, "Custom images.", {
        customImages: arrayOf(CUSTOM_IMAGE_SCHEMA),
      }),
    },
    async handler(context) {
      const org = await organizationOf(context);
      const { customImages } = await context.deps.catalog.listCustomImages(
        { orgId: org.id },
        context.call,
      );
      return { customImages: customImages.map(customImageJson) };
    },
  },
  {
    method: "POST",
    path: "/api/v1/organizations/{org}/custom-images",
    operationId: "createCustomImage",
    summary: "Create a custom image from a source image",
    description:
      "Stores revision 1 without building it (editors and owners). To create and build in one step, apply to the new image's name with its sourceImage.",
    tags: ["custom-images"],
    params: { org: ORG_PARAM },
    body: requestObject(
      "The new custom image.",
      {
        name: CUSTOM_IMAGE_NAME_SCHEMA,
        sourceImage: {
          type: "string",
          minLength: 1,
          description: "the source image it customizes",
        },
        overlay: OVERLAY_INPUT_SCHEMA,
        comment: { type: "string", maxLength: 1000, description: "why it was made" },
      },
      ["name", "sourceImage"],
    ),
    response: { status: 201, description: "Revision 1.", schema: CUSTOM_IMAGE_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const body = context.body as {
        name: string;
        sourceImage: string;
        overlay?: OverlayInput;
        comment?: string;
      };
      const { customImage } = await context.deps.catalog.createCustomImage(
        {
          orgId: org.id,
          name: body.name,
          sourceImage: body.sourceImage,
          overlay: mergedOverlay(undefined, body.overlay),
          comment: body.comment ?? "",
        },
        context.call,
      );
      context.reply.header(
        "location",
        apiPath("organizations", org.name, "custom-images", body.name),
      );
      return customImageJson(answered(customImage, "the custom image"));
    },
  },
  {
    method: "GET",
    path: "/api/v1/organizations/{org}/custom-images/{image}",
    operationId: "getCustomImage",
    summary: "Get a custom image",
    tags: ["custom-images"],
    params: { org: ORG_PARAM, image: IMAGE_PARAM },
    query: {
      revision: {
        schema: { type: "integer", minimum: 1 },
        description: "a past revision (default: the latest)",
      },
    },
    response: { description: "The revision.", schema: CUSTOM_IMAGE_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const revision = context.query.revision;
      const { customImage } = await context.deps.catalog.getCustomImage(
        {
          orgId: org.id,
          name: context.params.image ?? "",
          revision: typeof revision === "number" ? revision : 0,
        },
        context.call,
      );
      return customImageJson(answered(customImage, "the custom image"));
    },
  },
  {
    method: "GET",
    path: "/api/v1/organizations/{org}/custom-images/{image}/revisions",
    operationId: "listCustomImageRevisions",
    summary: "Get a custom image's revision history",
    tags: ["custom-images"],
    params: { org: ORG_PARAM, image: IMAGE_PARAM },
    response: {
      description: "Every revision, newest first.",
      schema: responseObject(undefined, "A custom image's revisions.", {
        revisions: arrayOf(CUSTOM_IMAGE_SCHEMA),
      }),
    },
    async handler(context) {
      const org = await organizationOf(context);
      const { revisions } = await context.deps.catalog.listCustomImageRevisions(
        { orgId: org.id, name: context.params.image ?? "" },
        context.call,
      );
      return { revisions: revisions.map(customImageJson) };
    },
  },
];
