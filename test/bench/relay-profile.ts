/**
 * Where a V8 CPU profile (.cpuprofile) spent its time: self time per function and per area
 * (an npm package, a source directory of the relay, Node.js internals, GC), idle left out.
 * Native functions (writev, writeBuffer, …) and Node.js internals are counted for the nearest
 * caller outside Node.js, so a socket write shows up under pg, ioredis or nodemailer.
 */
import { relative } from 'node:path';
import type { FlowName, ProfileEntry, ProfileSummary } from './relay-types';

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = relative('/', `${__dirname}/../..`);

/** The area a script belongs to: "pg", "@nestjs/core", "src/smime", "node:internal", "(gc)". */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [scope, name] = url.slice(modules + 'node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const path = url.replace(/^file:\/\//, '');
  const inRepo = path.indexOf(ROOT) >= 0 ? path.slice(path.indexOf(ROOT) + ROOT.length + 1) : path;
  const parts = inRepo.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : inRepo;
}

type Frame = CpuProfile['nodes'][number]['callFrame'];

const userland = (f: Frame | undefined): boolean => !!f?.url && !f.url.startsWith('node:');

function label(frame: Frame, caller: string | undefined): string {
  const name = frame.functionName || '(anonymous)';
  const from = caller && !name.startsWith('(') ? ` (from ${caller})` : '';
  if (!frame.url) return name + from;
  const file = frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|plugins)\//, '$1/');
  return `${name} ${file.replace(/^file:\/\//, '')}:${frame.lineNumber + 1}${from}`;
}

function top(totals: Map<string, number>, busyUs: number, n: number): ProfileEntry[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
}

export function summarizeProfile(
  profile: CpuProfile,
  flow: FlowName,
  file: string,
  entries = 15,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The area of a node's nearest caller (or itself) outside Node.js. */
  const owner = new Map<number, string | undefined>();
  const ownerOf = (id: number): string | undefined => {
    if (owner.has(id)) return owner.get(id);
    const f = byId.get(id)?.callFrame;
    const up = parent.get(id);
    let area: string | undefined;
    if (f && userland(f)) area = areaOf(f.url, f.functionName);
    else if (up !== undefined) area = ownerOf(up);
    owner.set(id, area);
    return area;
  };
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const us = profile.timeDeltas[i] ?? 0;
    if (!node || us <= 0) continue;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const caller = userland(frame) ? undefined : ownerOf(node.id);
    const f = label(frame, caller);
    functions.set(f, (functions.get(f) ?? 0) + us);
    const a = caller ?? areaOf(frame.url, frame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  return {
    flow,
    file,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions: top(functions, busyUs, entries),
    areas: top(areas, busyUs, entries),
  };
}
