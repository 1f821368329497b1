/** Tables of source images and custom images with their revisions. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the images work
export interface ImageTables {}
