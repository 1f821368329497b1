import type { ColumnType, Selectable } from "@tailor/db";

/** Row shape of `entitlement.organizations`. */
export interface OrganizationsTable {
  id: string;
  name: string;
  display_name: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  custom_assembly_enabled: ColumnType<boolean, boolean | undefined, boolean>;
  unique_tags: ColumnType<boolean, boolean | undefined, boolean>;
}

/** A stored organization row. */
export type OrganizationRow = Selectable<OrganizationsTable>;

/** Row shape of `entitlement.customizable_source_images`: one source image an organization may customize. */
export interface CustomizableSourceImagesTable {
  org_id: string;
  source_image: string;
}
