import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x86-64 and arm64

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function processRssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds of a process tree one level deep (the postmaster and its backends): the root's own
 * time, the time of children it has already reaped (cutime + cstime), and that of live children.
 */
export function processTreeCpuSeconds(rootPid: number): number {
  let total = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(name);
      if (pid === rootPid) {
        total +=
          (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) /
          TICKS_PER_SECOND;
      } else if (Number(fields[1]) === rootPid) {
        total += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

export interface CoreTimes {
  busy: number;
  total: number;
}

/** Busy and total jiffies of one core, from /proc/stat. */
export function coreTimes(core: number): CoreTimes {
  const line = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`cpu${core} `));
  if (!line) return { busy: Number.NaN, total: Number.NaN };
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

/**
 * Measures one phase: the server's CPU (its pid), the load generator's own CPU, and how busy
 * each core was. The generator and PostgreSQL share core 1; the server has core 0 to itself.
 */
export function startCpuMeter(serverPid: number, postgresPid: number) {
  const wallStart = performance.now();
  const serverStart = processCpuSeconds(serverPid);
  const pgStart = processTreeCpuSeconds(postgresPid);
  const selfStart = process.cpuUsage();
  const core0 = coreTimes(0);
  const core1 = coreTimes(1);
  return (): CpuReport => {
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const self = process.cpuUsage(selfStart);
    const serverSeconds = processCpuSeconds(serverPid) - serverStart;
    const c0 = coreTimes(0);
    const c1 = coreTimes(1);
    const share = (a: CoreTimes, b: CoreTimes) => (b.busy - a.busy) / Math.max(1, b.total - a.total);
    return {
      wallSeconds,
      serverCpuSeconds: serverSeconds,
      serverCpu: serverSeconds / wallSeconds,
      generatorCpu: (self.user + self.system) / 1e6 / wallSeconds,
      postgresCpu: (processTreeCpuSeconds(postgresPid) - pgStart) / wallSeconds,
      core0Busy: share(core0, c0),
      core1Busy: share(core1, c1),
    };
  };
}

export interface CpuReport {
  wallSeconds: number;
  serverCpuSeconds: number;
  /** Fraction of one core. */
  serverCpu: number;
  generatorCpu: number;
  /** The PostgreSQL postmaster and its backends (on core 1 with the generator). */
  postgresCpu: number;
  core0Busy: number;
  core1Busy: number;
}

/**
 * A phase measures the server only while the load generator has room to spare: invalid when the
 * generator used 95% of its core, or when core 1 was saturated and the generator, not
 * PostgreSQL, was what filled it. A saturated core 1 with PostgreSQL the larger user is valid
 * (the database is part of what is measured) but noted.
 */
export function validity(cpu: CpuReport): { valid: boolean; note?: string } {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  if (cpu.generatorCpu >= 0.95) {
    return { valid: false, note: `load generator at ${pct(cpu.generatorCpu)} of its core` };
  }
  // Other processes (other people's test suites, say) on our cores: time that is neither ours
  // nor the kernel's loopback work charged to us. Above a fifth of a core, the phase is noise.
  const othersOn1 = cpu.core1Busy - cpu.generatorCpu - cpu.postgresCpu;
  if (othersOn1 > 0.2) {
    return {
      valid: false,
      note: `other processes on core 1 (${pct(othersOn1)}; generator ${pct(cpu.generatorCpu)}, PostgreSQL ${pct(cpu.postgresCpu)})`,
    };
  }
  const othersOn0 = cpu.core0Busy - cpu.serverCpu;
  if (othersOn0 > 0.2) {
    return {
      valid: false,
      note: `other processes on core 0 (${pct(othersOn0)}; server ${pct(cpu.serverCpu)})`,
    };
  }
  if (cpu.core1Busy >= 0.97 && cpu.generatorCpu >= cpu.postgresCpu) {
    return {
      valid: false,
      note: `core 1 saturated, mostly by the generator (${pct(cpu.generatorCpu)}; PostgreSQL ${pct(cpu.postgresCpu)}), server ${pct(cpu.serverCpu)}`,
    };
  }
  if (cpu.core1Busy >= 0.97) {
    return { valid: true, note: `PostgreSQL-bound: core 1 saturated, PostgreSQL ${pct(cpu.postgresCpu)}` };
  }
  return { valid: true };
}
