// Placeholder until the APK repository lands its tables.
/** Tables holding organizations' APK repository signing keys. */
export type ApkKeyTables = {};
