#!/usr/bin/env bun
// Composition root and command line: `tgcpa [--config FILE]`, `tgcpa check-config FILE`.
import { ConfigError, defaultConfigPath, loadConfigFile } from "./config/load.ts";
import { StorageError } from "./db/client.ts";
import { createLogger } from "./lib/logger.ts";
import { backupDatabase } from "./ops/backup.ts";
import { startService } from "./service.ts";

const USAGE = `usage:
  tgcpa [--config FILE]        run the service (default: $TGCPA_CONFIG, config/tgcpa.yaml, config/example.yaml)
  tgcpa check-config [FILE]    validate a config file; lists every error and exits 1 if there are any
  tgcpa backup FILE [--config CONFIG]
                               online, consistent copy of the database into FILE (safe while running)`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args[0] === "check-config") {
    const path = args[1] ?? option(args, "--config") ?? defaultConfigPath(process.env);
    try {
      const config = loadConfigFile(path);
      process.stdout.write(`${config.source}: ok (${config.campaigns.length} campaigns, ${Object.keys(config.bots).length} bots)\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
  }
  if (args[0] === "backup") {
    const target = args[1];
    if (!target || target.startsWith("--")) {
      process.stderr.write(`backup needs a target file\n${USAGE}\n`);
      return 2;
    }
    try {
      const config = loadConfigFile(option(args, "--config") ?? defaultConfigPath(process.env));
      const { bytes, leads } = backupDatabase(config.storage.path, target);
      process.stdout.write(`backup of ${config.storage.path} written to ${target} (${bytes} bytes, ${leads} leads, integrity ok)\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`${err instanceof ConfigError ? err.message : `backup failed: ${(err as Error).message}`}\n`);
      return 1;
    }
  }
  if (args[0] !== undefined && args[0] !== "serve" && !args[0].startsWith("--")) {
    process.stderr.write(`unknown command "${args[0]}"\n${USAGE}\n`);
    return 2;
  }
  const configPath = option(args, "--config") ?? defaultConfigPath(process.env);
  let service;
  try {
    service = await startService({ configPath, onFatal: () => process.exit(1) }); // logged by the service
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StorageError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const log = service.ctx.log;
  process.on("SIGHUP", () => {
    try {
      service.ctx.reloadConfig();
    } catch (err) {
      if (err instanceof ConfigError) log.error({ issues: err.issues }, "config reload refused; the running config is kept");
      else log.error({ err }, "config reload failed");
    }
  });
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  log.info("shutting down");
  try {
    await service.stop();
  } catch (err) {
    log.error({ message: (err as Error).message }, "shutdown did not finish cleanly");
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    createLogger("error").fatal({ err }, "tgcpa failed to start");
    process.exit(1);
  },
);
