/** A DNS stand-in answering from a fixed zone; records every question asked. */
import type { DnsLookup } from '../../src/common/dns-lookup';

export interface StubZone {
  /** name → TXT records, each a single string (or its character-strings). */
  txt?: Record<string, (string | string[])[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  mx?: Record<string, string[]>;
}

export function stubDns(zone: StubZone): DnsLookup & { asked: string[] } {
  const asked: string[] = [];
  const answer = <T>(type: string, table: Record<string, T[]> | undefined, name: string) => {
    asked.push(`${type} ${name.toLowerCase()}`);
    return Promise.resolve(table?.[name.toLowerCase()] ?? []);
  };
  return {
    asked,
    txt: async (name) =>
      (await answer('TXT', zone.txt, name)).map((r) => (Array.isArray(r) ? r : [r])),
    a: (name) => answer('A', zone.a, name),
    aaaa: (name) => answer('AAAA', zone.aaaa, name),
    mx: (name) => answer('MX', zone.mx, name),
  };
}
