/**
 * Which hosts a runtime repository may not point at: anything that is not a
 * public internet address. Images run inside customers' networks; a URL to a
 * loopback, private or link-local address or to an internal-only name would
 * make `apk` inside the image probe that network. This checks the URL's text
 * only; whoever fetches from it must still refuse names that resolve to such
 * addresses.
 */

/** IPv4 ranges that are not public, as [first octets value, prefix length, why]. */
const PRIVATE_IPV4: ReadonlyArray<readonly [number, number, string]> = [
  [ipv4(0, 0, 0, 0), 8, "an unspecified address (0.0.0.0/8)"],
  [ipv4(10, 0, 0, 0), 8, "a private address (10.0.0.0/8)"],
  [ipv4(100, 64, 0, 0), 10, "a shared carrier-grade NAT address (100.64.0.0/10)"],
  [ipv4(127, 0, 0, 0), 8, "a loopback address (127.0.0.0/8)"],
  [ipv4(169, 254, 0, 0), 16, "a link-local address (169.254.0.0/16)"],
  [ipv4(172, 16, 0, 0), 12, "a private address (172.16.0.0/12)"],
  [ipv4(192, 168, 0, 0), 16, "a private address (192.168.0.0/16)"],
  [ipv4(224, 0, 0, 0), 4, "a multicast address (224.0.0.0/4)"],
  [ipv4(240, 0, 0, 0), 4, "a reserved address (240.0.0.0/4)"],
];

/** Host name suffixes that only resolve inside a site. */
const INTERNAL_NAMES: ReadonlyArray<readonly [string, string]> = [
  ["localhost", "a loopback name"],
  ["local", "a multicast-DNS (.local) name"],
  ["internal", "an internal-only (.internal) name"],
  ["localdomain", "a local-only (.localdomain) name"],
  ["home.arpa", "a home-network (.home.arpa) name"],
];

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function ipv4Value(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const octets = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : Number.NaN));
  if (octets.some((octet) => Number.isNaN(octet) || octet > 255)) return undefined;
  const [a, b, c, d] = octets as [number, number, number, number];
  return ipv4(a, b, c, d);
}

function privateIpv4Reason(value: number): string | undefined {
  for (const [base, prefix, why] of PRIVATE_IPV4) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((value & mask) >>> 0 === base) return why;
  }
  if (value === 0xffffffff) return "the broadcast address";
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (as the WHATWG URL parser prints it), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  let address = text.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4Tail !== null) {
    const value = ipv4Value(v4Tail[1] as string);
    if (value === undefined) return undefined;
    address = `${address.slice(0, v4Tail.index)}${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16));
  const head = parse(halves[0] ?? "");
  const tail = halves.length === 2 ? parse(halves[1] ?? "") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? head.length !== 8 : missing < 1) return undefined;
  const groups = [
    ...head,
    ...new Array<number>(halves.length === 2 ? missing : 0).fill(0),
    ...tail,
  ];
  if (groups.some((g) => Number.isNaN(g) || g < 0 || g > 0xffff)) return undefined;
  return groups;
}

function privateIpv6Reason(groups: readonly number[]): string | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 0) return "the unspecified address (::)";
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 1) return "the loopback address (::1)";
  if (upperZero && (g5 === 0xffff || g5 === 0)) {
    // IPv4-mapped (::ffff:a.b.c.d) and the old IPv4-compatible form reach IPv4 hosts.
    const v4 = ((g6 << 16) | g7) >>> 0;
    const why = privateIpv4Reason(v4);
    return why === undefined ? undefined : `an IPv4-mapped address that is ${why}`;
  }
  if ((g0 & 0xfe00) === 0xfc00) return "a unique-local address (fc00::/7)";
  if ((g0 & 0xffc0) === 0xfe80) return "a link-local address (fe80::/10)";
  if ((g0 & 0xff00) === 0xff00) return "a multicast address (ff00::/8)";
  return undefined;
}

/**
 * Why a repository URL's host (`URL.hostname`) is not a public internet host,
 * or undefined when it is one.
 */
export function nonPublicHostReason(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = ipv6Groups(host.slice(1, -1));
    if (groups === undefined) return "an IPv6 address Tailor cannot read";
    return privateIpv6Reason(groups);
  }
  const v4 = ipv4Value(host);
  if (v4 !== undefined) return privateIpv4Reason(v4);
  if (host === "") return "an empty host";
  for (const [suffix, why] of INTERNAL_NAMES) {
    if (host === suffix || host.endsWith(`.${suffix}`)) return why;
  }
  if (!host.includes(".")) return "a single-label name, which only resolves inside a site";
  return undefined;
}
