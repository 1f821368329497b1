import { tailorVitestConfig } from "../../vitest.shared.js";

export default tailorVitestConfig(import.meta.url);
