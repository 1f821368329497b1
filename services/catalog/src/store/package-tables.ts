/** Tables of repositories, packages, syncs and end-of-life rules. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the repositories work
export interface PackageTables {}
