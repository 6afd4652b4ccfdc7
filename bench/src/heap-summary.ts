import { readFileSync } from "node:fs";

/**
 * Summarises V8 heap snapshots (`pnpm bench --heap=snapshots` writes them to results/): self size
 * and count by constructor, or the difference between two snapshots, and for chosen
 * constructors the paths that keep their instances alive (shortest, from the GC roots). Usage:
 *   pnpm --filter @parley/bench heap:summary <a.heapsnapshot> [b.heapsnapshot]
 *     [--top=40] [--largest=N] [--retainers='Ctor|(native) system / JSArrayBufferData']
 * Constructors are named as the DevTools name them; strings, code and shapes are one row each.
 */
interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Loaded {
  n: number;
  selfSize(i: number): number;
  key(i: number): string;
  /** Strong edges of node i: [edge name, target node]. */
  edgesOf(i: number): Iterable<[string, number]>;
}

// Node fields: type, name, id, self_size, edge_count, …; edge fields: type, name_or_index, to_node.
const SELF_SIZE = 3;
const EDGE_COUNT = 4;

function load(file: string): Loaded {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const { meta } = snap.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = snap;
  const n = nodes.length / nf;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += (nodes[i * nf + EDGE_COUNT] ?? 0) * ef;
    firstEdge[i + 1] = e;
  }
  const at = (array: number[], index: number) => array[index] ?? 0;
  return {
    n,
    selfSize: (i) => at(nodes, i * nf + SELF_SIZE),
    key(i) {
      const type = nodeTypes[at(nodes, i * nf)] ?? "?";
      const name = (strings[at(nodes, i * nf + 1)] ?? "").slice(0, 80);
      if (type === "string" || type === "concatenated string" || type === "sliced string") return "(string)";
      if (type === "number") return "(number)";
      if (type === "code") return "(code)";
      if (type === "object shape") return "(shape)";
      if (type === "hidden") return `(system) ${name}`;
      return type === "object" ? name : `(${type}) ${name}`;
    },
    *edgesOf(i) {
      for (let e = firstEdge[i] ?? 0; e < (firstEdge[i + 1] ?? 0); e += ef) {
        const type = edgeTypes[at(edges, e)];
        if (type === "weak" || type === "shortcut") continue;
        const nameOrIndex = at(edges, e + 1);
        const name = type === "element" || type === "hidden" ? "[n]" : (strings[nameOrIndex] ?? "?");
        yield [name, at(edges, e + 2) / nf];
      }
    },
  };
}

function byConstructor(s: Loaded) {
  const rows = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < s.n; i++) {
    const row = rows.get(s.key(i)) ?? { count: 0, size: 0 };
    row.count++;
    row.size += s.selfSize(i);
    rows.set(s.key(i), row);
  }
  return rows;
}

const print = (line: string) => process.stdout.write(`${line}\n`);
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith("--"));
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const top = Number(option("top") ?? 40);
const largest = Number(option("largest") ?? 0);
const retainersOf = option("retainers")?.split("|") ?? [];
if (files.length === 0 || files.length > 2) {
  process.stderr.write(
    "usage: heap-summary <a.heapsnapshot> [b.heapsnapshot] [--top=N] [--largest=N] [--retainers='A|B']\n",
  );
  process.exit(1);
}

const snapshots = files.map(load);
const tables = snapshots.map(byConstructor);
const kib = (bytes: number) => (bytes / 1024).toFixed(1).padStart(9);
for (const [i, table] of tables.entries()) {
  const total = [...table.values()].reduce((sum, row) => sum + row.size, 0);
  print(`${files[i]}: ${snapshots[i]?.n} objects, ${(total / 1048576).toFixed(2)} MiB (self sizes)`);
}
const [first, second] = tables;
if (first && second) {
  const none = { count: 0, size: 0 };
  const rows = [...new Set([...first.keys(), ...second.keys()])].map((key) => {
    const a = first.get(key) ?? none;
    const b = second.get(key) ?? none;
    return { key, dSize: b.size - a.size, dCount: b.count - a.count, b };
  });
  rows.sort((p, q) => Math.abs(q.dSize) - Math.abs(p.dSize));
  print(
    `\nsecond − first, by constructor (top ${top} by size):\n    Δ KiB   Δ count  count now  KiB now  constructor`,
  );
  for (const r of rows.slice(0, top))
    print(
      `${kib(r.dSize)} ${String(r.dCount).padStart(9)} ${String(r.b.count).padStart(10)} ${kib(r.b.size)}  ${r.key}`,
    );
} else if (first) {
  print(`\nby constructor (top ${top} by size):\n      KiB     count  constructor`);
  for (const [key, row] of [...first.entries()].sort((p, q) => q[1].size - p[1].size).slice(0, top))
    print(`${kib(row.size)} ${String(row.count).padStart(9)}  ${key}`);
}

const last = snapshots.at(-1);
if (last && (largest > 0 || retainersOf.length > 0)) {
  // Breadth-first from the root (node 0) over strong edges: each object's parent on a shortest path.
  const parent = new Int32Array(last.n).fill(-1);
  const parentEdge: string[] = new Array(last.n);
  const queue = new Int32Array(last.n);
  const seen = new Uint8Array(last.n);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  seen[0] = 1;
  while (head < tail) {
    const from = queue[head++] ?? 0;
    for (const [name, to] of last.edgesOf(from)) {
      if (seen[to]) continue;
      seen[to] = 1;
      parent[to] = from;
      parentEdge[to] = name;
      queue[tail++] = to;
    }
  }
  const path = (i: number) => {
    const steps: string[] = [];
    for (let j = i, depth = 0; depth < 12 && (parent[j] ?? -1) >= 0; depth++) {
      const p = parent[j] ?? 0;
      // Numbers (indices, object ids) out of edge names: the same path for every instance.
      steps.push(`${last.key(p).slice(0, 50)}.${(parentEdge[j] ?? "").replace(/\d+/g, "n")}`);
      j = p;
    }
    return steps.join(" ← ");
  };
  if (largest > 0) {
    print(`\nthe ${largest} largest objects and what holds them:`);
    const order = Array.from({ length: last.n }, (_, i) => i).sort(
      (a, b) => last.selfSize(b) - last.selfSize(a),
    );
    for (const i of order.slice(0, largest))
      print(`${kib(last.selfSize(i))} KiB ${last.key(i)} ← ${path(i)}`);
  }
  for (const wanted of retainersOf) {
    const paths = new Map<string, number>();
    for (let i = 0; i < last.n; i++) {
      if (last.key(i) !== wanted || !seen[i]) continue;
      const p = path(i);
      paths.set(p, (paths.get(p) ?? 0) + 1);
    }
    print(`\nwhat holds ${wanted} (${[...paths.values()].reduce((a, b) => a + b, 0)} reachable):`);
    for (const [p, count] of [...paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8))
      print(`  ${count} × ${p}`);
  }
}
