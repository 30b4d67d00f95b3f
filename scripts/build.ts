// Builds the single binary with the commit embedded (`tgcpa --version` prints it).
//   bun scripts/build.ts             → dist/tgcpa for this machine (npm run build)
//   bun scripts/build.ts --release   → dist/release/ (npm run build:release): for each target a binary
//                                      and a kit tarball (binary, install.sh, unit, config, proxy
//                                      examples), and SHA256SUMS over all of them
// Cross-compiling needs the Bun runtime of each target, which `bun build` fetches from the npm
// registry (package bun-linux-…) on first use and caches.
import { mkdirSync, mkdtempSync, rmSync, copyFileSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { VERSION, gitCommit } from "../src/lib/version.ts";

const ROOT = resolve(import.meta.dir, "..");

/**
 * No separate x64 "baseline" build: with Bun 1.4.5 the baseline runtime bun build fetches is
 * byte-identical to the linux-x64 one (checked when this list was written).
 */
export const RELEASE_TARGETS = ["linux-x64", "linux-arm64"] as const;

/**
 * What goes into a kit beside the binary (from deploy/; tgcpa.schema.json there is a link to
 * config/tgcpa.schema.json, copied as a file: the kit's tgcpa.yaml names it).
 */
export const KIT_FILES = [
  "install.sh", "tgcpa.service", "tgcpa.yaml", "tgcpa.schema.json",
  "Caddyfile", "Caddyfile.lockdown", "nginx-http.conf", "nginx.conf", "README.md",
];

export interface BuildOptions {
  outfile: string;
  /** A Bun target without its `bun-` prefix (linux-arm64, …); this machine's when absent. */
  target?: string;
  /** Embedded for --version: $TGCPA_COMMIT (a build without .git, e.g. deploy/Dockerfile), else the checkout's commit. */
  commit?: string;
}

/** `bun build --compile` of src/main.ts; the migrations are embedded by src/storage/sqlite/migrations.generated.ts. */
export function buildBinary({ outfile, target, commit = process.env.TGCPA_COMMIT || (gitCommit(ROOT) ?? "unknown") }: BuildOptions): void {
  const run = Bun.spawnSync([
    process.execPath, "build", "--compile", "--minify", "--sourcemap",
    "--define", `TGCPA_BUILD_COMMIT=${JSON.stringify(commit)}`,
    "--define", `process.env.NODE_ENV=${JSON.stringify("production")}`, // production without any environment variable
    ...(target ? [`--target=bun-${target}`] : []),
    "src/main.ts", "--outfile", outfile,
  ], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`bun build for ${target ?? "this machine"} failed:\n${run.stderr.toString()}${run.stdout.toString()}`);
}

async function sha256(path: string): Promise<string> {
  return new Bun.CryptoHasher("sha256").update(await Bun.file(path).arrayBuffer()).digest("hex");
}

async function release(outDir: string) {
  const commit = process.env.TGCPA_COMMIT || (gitCommit(ROOT) ?? "unknown");
  if (commit.endsWith("-dirty") || commit === "unknown") console.warn(`warning: building a release from commit ${commit}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const artifacts: string[] = [];
  for (const target of RELEASE_TARGETS) {
    const name = `tgcpa-${VERSION}-${target}`;
    const binary = join(outDir, name);
    const started = performance.now();
    buildBinary({ outfile: binary, target, commit });
    rmSync(`${binary}.map`, { force: true }); // the binary carries its own source map
    // The kit: one folder with everything install.sh needs.
    const staging = mkdtempSync(join(tmpdir(), "tgcpa-kit-"));
    try {
      const kit = join(staging, name);
      mkdirSync(kit);
      copyFileSync(binary, join(kit, "tgcpa"));
      for (const file of KIT_FILES) copyFileSync(join(ROOT, "deploy", file), join(kit, file));
      const tar = Bun.spawnSync(["tar", "--owner=0", "--group=0", "-czf", resolve(`${binary}.tar.gz`), "-C", staging, name], { stderr: "pipe" });
      if (tar.exitCode !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    artifacts.push(binary, `${binary}.tar.gz`);
    console.log(`${name}: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const sums = await Promise.all(artifacts.map(async (path) => `${await sha256(path)}  ${basename(path)}`));
  writeFileSync(join(outDir, "SHA256SUMS"), `${sums.join("\n")}\n`);
  console.log(`${outDir}: ${readdirSync(outDir).join(", ")} (commit ${commit}; check with: cd ${outDir} && sha256sum -c SHA256SUMS)`);
}

if (import.meta.main) {
  if (process.argv.includes("--release")) {
    await release(join(ROOT, "dist/release"));
  } else {
    buildBinary({ outfile: join(ROOT, "dist/tgcpa") });
    console.log("dist/tgcpa built");
  }
}
