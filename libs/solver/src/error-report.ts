/**
 * apk-tools' "unable to select packages" report (src/commit.c,
 * apk_solver_print_errors), byte for byte, plus a structured list of the
 * same findings.
 */

import type { PassResult, WorldDep } from "./apk-pass.js";
import type { Dep } from "./dependency.js";
import {
  analyzeDep,
  CONFLICTS,
  compareMask,
  formatDep,
  isConflict,
  LESS,
  SATISFIES,
} from "./dependency.js";
import type { NameNode, PackageNode } from "./universe-types.js";

/** One finding of a failed solve. */
export interface SolveProblem {
  /** `name-version` for a package, or the name for a missing or virtual name. */
  readonly package?: string;
  /**
   * What is wrong: "uninstallable", "not entitled", "masked", "conflicts",
   * "breaks", "no such package", "virtual", "invalid world dependency",
   * "missing repository tag".
   */
  readonly kind: string;
  /** The report lines about it, as printed. */
  readonly lines: readonly string[];
}

/** apk's output width when not writing to a terminal. */
const WIDTH = 50;

/** apk_indent: words wrapped under a label. */
class Indented {
  x = 0;
  indent = 0;
  out = "";

  line(text: string): void {
    this.out += text;
    this.x = 0;
    this.indent = 0;
  }

  group(indent: number, text: string): void {
    this.out += text;
    this.x = text.length;
    this.indent = indent || this.x + 1;
    if (text.endsWith("\n")) this.x = 0;
  }

  end(): void {
    if (this.x) {
      this.out += "\n";
      this.x = 0;
      this.indent = 0;
    }
  }

  word(text: string): void {
    if (this.x <= this.indent) {
      const pad = " ".repeat(Math.max(0, this.indent - this.x));
      this.out += pad + text;
      this.x += pad.length + text.length;
    } else if (this.x + text.length + 1 >= WIDTH) {
      this.out += `\n${" ".repeat(this.indent)}${text}`;
      this.x = this.indent + text.length;
    } else {
      this.out += ` ${text}`;
      this.x += text.length + 1;
    }
  }

  words(text: string): void {
    for (const word of text.split(" ")) this.word(word);
  }
}

const PRESENT = 0x80000000;
const MISSING = 0x40000000;
const VIRTUAL_ONLY = 0x20000000;
const INSTALLIF = 0x10000000;
const COUNT_MASK = 0xffff;

/** Why a package cannot be installed at all, besides its dependencies. */
export interface Unusable {
  readonly broken: boolean;
  readonly arch: string | undefined;
  readonly notEntitled: boolean;
}

/** Inputs of the report. */
export interface ReportInput {
  readonly pass: PassResult;
  readonly world: readonly WorldDep[];
  readonly tags: readonly string[];
  readonly unusable: (pkg: PackageNode) => Unusable | undefined;
}

/** Display order of names: case-insensitive, then exact (apk_name_cmp_display). */
export function compareNamesDisplay(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function pkgText(pkg: PackageNode): string {
  return `${pkg.info.name}-${pkg.info.version}`;
}

/** The report text (without the trailing newline) and its findings. */
export function reportErrors(input: ReportInput): { text: string; problems: SolveProblem[] } {
  const { pass, world, tags, unusable } = input;
  const marked = new Set<PackageNode>(pass.changes.map((c) => c.pkg));
  const nameFlags = new Map<NameNode, number>();
  const pkgFlags = new Map<PackageNode, number>();
  const nflags = (n: NameNode) => nameFlags.get(n) ?? 0;
  const setN = (n: NameNode, v: number) => nameFlags.set(n, v);

  // discover what is present, as apk does before reporting
  const isNameConcrete = (pkg: PackageNode, name: NameNode) => {
    if (pkg.name === name) return true;
    return pkg.provides.some((d) => d.name === name && d.version !== null);
  };
  const discoverReverseIif = (name: NameNode) => {
    for (const name0 of name.rinstallIf) {
      for (const p of name0.providers) {
        if (!marked.has(p.pkg) || p.pkg.installIf.length === 0) continue;
        let ok = true;
        for (const d of p.pkg.installIf) {
          if (isConflict(d) === ((nflags(d.name) & (PRESENT | INSTALLIF)) !== 0)) {
            ok = false;
            break;
          }
        }
        if (ok) {
          discoverName(p.pkg.name, INSTALLIF);
          for (const d of p.pkg.provides) discoverName(d.name, INSTALLIF);
        }
      }
    }
  };
  const discoverName = (name: NameNode, pkgState: number) => {
    for (const p of name.providers) {
      let state = pkgState;
      if (!marked.has(p.pkg)) continue;
      if (
        (state === PRESENT || state === INSTALLIF) &&
        p.pkg.priority === 0 &&
        !isNameConcrete(p.pkg, name)
      ) {
        state = VIRTUAL_ONLY;
      }
      const pf = pkgFlags.get(p.pkg) ?? 0;
      if ((pf & state) >>> 0 !== 0) continue;
      pkgFlags.set(p.pkg, (pf | state) >>> 0);
      setN(p.pkg.name, (nflags(p.pkg.name) | state) >>> 0);
      for (const d of p.pkg.provides) {
        let depState = state;
        if (depState === INSTALLIF && d.version === null) depState = VIRTUAL_ONLY;
        setN(d.name, (nflags(d.name) | depState) >>> 0);
      }
      discoverDeps(p.pkg.depends);
      if (state === PRESENT || state === INSTALLIF) {
        discoverReverseIif(p.pkg.name);
        for (const d of p.pkg.provides) discoverReverseIif(d.name);
      }
    }
  };
  const discoverDeps = (deps: readonly Dep[]) => {
    for (const d of deps) if (!isConflict(d)) discoverName(d.name, PRESENT);
  };
  discoverDeps(world.map((w) => w.dep));

  const out = new Indented();
  let label: string | null = null;
  let numLabels = 0;
  const startSubject = (text: string) => {
    label = text;
  };
  const labelStart = (text: string) => {
    if (label !== null) {
      out.line(`  ${label}:\n`);
      label = null;
      numLabels++;
    }
    if (!out.x) out.group(0, `    ${text}`);
  };
  const labelEnd = () => out.end();

  const worldText = (w: WorldDep) =>
    `${w.origin}[${formatDep(w.dep)}${w.tagId === 0 ? "" : (tags[w.tagId] ?? "")}]`;

  const printPinningErrors = (pkg: PackageNode, tag: number) => {
    if (pkg.tags.includes(0) || pkg.tags.includes(tag)) return;
    for (const i of pkg.tags) {
      labelStart("masked in:");
      out.word(tags[i] ?? "");
    }
    labelEnd();
  };

  const printConflicts = (pkg: PackageNode) => {
    for (const p of pkg.name.providers) {
      if (p.pkg === pkg || !marked.has(p.pkg)) continue;
      labelStart("conflicts:");
      out.word(pkgText(p.pkg));
    }
    for (const d of pkg.provides) {
      let once = true;
      for (const p of d.name.providers) {
        if (!marked.has(p.pkg)) continue;
        if (d.version === null && p.version === null) continue;
        if (once && p.pkg === pkg && p.version === d.version) {
          once = false;
          continue;
        }
        labelStart("conflicts:");
        out.word(`${pkgText(p.pkg)}[${formatDep(d)}]`);
      }
    }
    labelEnd();
  };

  const printMatched = (
    text: string,
    matched: { pkg: PackageNode | null; dep: Dep; world?: WorldDep }[],
  ) => {
    if (matched.length === 0) return;
    labelStart(text);
    matched.sort((a, b) => {
      if (a.pkg !== null && b.pkg !== null) {
        const r = comparePkgDisplay(a.pkg, b.pkg);
        if (r !== 0) return r;
      }
      return a.dep.mask - b.dep.mask;
    });
    for (const m of matched) {
      if (m.pkg === null && m.world !== undefined) out.word(worldText(m.world));
      else if (m.pkg !== null) out.word(`${pkgText(m.pkg)}[${formatDep(m.dep)}]`);
    }
  };

  const printDeps = (pkg: PackageNode, match: number) => {
    const text = match & SATISFIES ? "satisfies:" : "breaks:";
    const fromWorld: { pkg: PackageNode | null; dep: Dep; world: WorldDep }[] = [];
    for (const w of world) {
      if (analyzeDep(null, w.dep, pkg) & match) fromWorld.push({ pkg: null, dep: w.dep, world: w });
    }
    printMatched(text, fromWorld);
    const reverse: { pkg: PackageNode | null; dep: Dep }[] = [];
    const visited = new Set<PackageNode>();
    const scan = (rdepends: readonly NameNode[]) => {
      for (const name0 of rdepends) {
        for (const p0 of name0.providers) {
          if (!marked.has(p0.pkg) || visited.has(p0.pkg)) continue;
          visited.add(p0.pkg);
          for (const d0 of p0.pkg.depends) {
            if (analyzeDep(p0.pkg, d0, pkg) & match) reverse.push({ pkg: p0.pkg, dep: d0 });
          }
        }
      }
    };
    scan(pkg.name.rdepends);
    for (const d of pkg.provides) scan(d.name.rdepends);
    printMatched(text, reverse);
    labelEnd();
  };

  const printBrokenDeps = (deps: readonly Dep[], text: string) => {
    for (const d of deps) {
      if (!d.broken) continue;
      labelStart(text);
      out.word(formatDep(d));
    }
    labelEnd();
  };

  const analyzePackage = (pkg: PackageNode, tag: number) => {
    startSubject(pkgText(pkg));
    const why = unusable(pkg);
    if (why !== undefined) {
      if (why.broken || why.arch !== undefined) {
        labelStart("error:");
        out.word("uninstallable");
        labelEnd();
        if (why.arch !== undefined) {
          labelStart("arch:");
          out.word(why.arch);
          labelEnd();
        }
        printBrokenDeps(pkg.depends, "depends:");
        printBrokenDeps(pkg.provides, "provides:");
        printBrokenDeps(pkg.installIf, "install_if:");
      }
      if (why.notEntitled) {
        labelStart("error:");
        out.word("not entitled");
        labelEnd();
      }
    }
    printPinningErrors(pkg, tag);
    printConflicts(pkg);
    printDeps(pkg, CONFLICTS);
    if (label === null) printDeps(pkg, SATISFIES);
  };

  const analyzeMissingName = (name: NameNode) => {
    if (name.providers.length !== 0) {
      startSubject(`${name.name} (virtual)`);
      labelStart("note:");
      out.words("please select one of the 'provided by' packages explicitly");
      labelEnd();
      labelStart("provided by:");
      for (const p0 of name.providers) setN(p0.pkg.name, (nflags(p0.pkg.name) + 1) >>> 0);
      for (const p0 of name.providers) {
        const name0 = p0.pkg.name;
        const refs = nflags(name0) & COUNT_MASK;
        if (refs === name0.providers.length) {
          out.word(name0.name);
          setN(name0, (nflags(name0) & ~COUNT_MASK) >>> 0);
        } else if (refs > 0) {
          out.word(pkgText(p0.pkg));
          setN(name0, (nflags(name0) - 1) >>> 0);
        }
      }
      labelEnd();
    } else {
      startSubject(`${name.name} (no such package)`);
    }
    labelStart("required by:");
    for (const w of world) {
      if (w.dep.name !== name || isConflict(w.dep)) continue;
      out.word(worldText(w));
    }
    const visited = new Set<PackageNode>();
    for (const name0 of name.rdepends) {
      let printed = false;
      for (const p0 of name0.providers) {
        if (!marked.has(p0.pkg) || visited.has(p0.pkg)) continue;
        visited.add(p0.pkg);
        for (const d0 of p0.pkg.depends) {
          if (d0.name !== name || isConflict(d0)) continue;
          out.word(`${pkgText(p0.pkg)}[${formatDep(d0)}]`);
          printed = true;
          break;
        }
        if (printed) break;
      }
    }
    labelEnd();
  };

  const analyzeDeps = (deps: readonly Dep[]) => {
    for (const d of deps) {
      if (isConflict(d)) continue;
      if ((nflags(d.name) & (INSTALLIF | PRESENT | MISSING)) >>> 0 !== 0) continue;
      setN(d.name, (nflags(d.name) | MISSING) >>> 0);
      analyzeMissingName(d.name);
    }
  };

  out.line("ERROR: unable to select packages:\n");
  analyzeDeps(world.map((w) => w.dep));
  for (const change of pass.changes) {
    analyzePackage(change.pkg, change.tagId);
    analyzeDeps(change.pkg.depends);
  }
  if (numLabels === 0) {
    out.line("  Huh? Error reporter did not find the broken constraints.\n");
  }
  const text = out.out.replace(/\n$/, "");
  return { text, problems: problemsOf(text) };
}

function comparePkgDisplay(a: PackageNode, b: PackageNode): number {
  if (a.name !== b.name) return compareNamesDisplay(a.name.name, b.name.name);
  const cmp = compareMask(a.info.version, b.info.version, false);
  return cmp === LESS ? -1 : cmp === 4 ? 1 : 0;
}

/** Splits the report into one finding per subject (`  name-1.0:` and the lines under it). */
function problemsOf(text: string): SolveProblem[] {
  const problems: SolveProblem[] = [];
  let subject: { heading: string; lines: string[] } | null = null;
  const flush = () => {
    if (subject === null) return;
    const heading = subject.heading;
    const first = subject.lines[0]?.trim() ?? "";
    let kind: string;
    let pkg = heading;
    if (heading.endsWith(" (virtual)")) {
      kind = "virtual";
      pkg = heading.slice(0, -" (virtual)".length);
    } else if (heading.endsWith(" (no such package)")) {
      kind = "no such package";
      pkg = heading.slice(0, -" (no such package)".length);
    } else if (first.startsWith("error: ")) {
      kind = first.slice("error: ".length);
    } else if (first.startsWith("masked in:")) {
      kind = "masked";
    } else {
      kind = first.slice(0, first.indexOf(":"));
    }
    problems.push({ package: pkg, kind, lines: subject.lines });
  };
  for (const line of text.split("\n").slice(1)) {
    const heading = /^ {2}(\S.*):$/.exec(line);
    if (heading !== null) {
      flush();
      subject = { heading: heading[1] ?? "", lines: [] };
    } else if (subject !== null) {
      subject.lines.push(line);
    }
  }
  flush();
  return problems;
}
