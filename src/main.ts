#!/usr/bin/env bun
// Command line (SPEC §8) and the running service's process: signals, exit codes.
import "./lib/production-mode.ts"; // first: before Elysia reads NODE_ENV
import { parseArgs } from "node:util";
import { renderConfigJsonSchema } from "./config/json-schema.ts";
import { ConfigError, defaultConfigPath, loadConfigFile } from "./config/load.ts";
import type { Config } from "./config/model.ts";
import { StorageError } from "./storage/sqlite/client.ts";
import { DatabaseInUse } from "./storage/sqlite/instance-lock.ts";
import { createLogger } from "./lib/logger.ts";
import { VERSION, buildCommit } from "./lib/version.ts";
import { backupDatabase, restoreDatabase } from "./ops/backup.ts";
import { startService } from "./server.ts";
import { redactUrl } from "./storage/postgres/connect.ts";
import { copyToPostgres } from "./storage/postgres/copy-command.ts";

/** Exit codes: 0 done, 1 refused or failed (bad config, database in use, …), 2 a bad command line. */
const USAGE_ERROR = 2;

interface Command {
  /** e.g. `backup FILE`; the words after the command name are its arguments. */
  usage: string;
  about: string;
  /** How many arguments the command takes: [at least, at most]. */
  arity: [number, number];
  run(args: string[], configOption: string | undefined, options: { to?: string }): Promise<number> | number;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    usage: "serve",
    about: "run the service (the default command)",
    arity: [0, 0],
    run: (_, configOption) => serve(configOption ?? defaultConfigPath(process.env)),
  },
  "check-config": {
    usage: "check-config [FILE]",
    about: "validate a config file (FILE, else --config, else the default); lists every error, exit 1 if any",
    arity: [0, 1],
    run: ([file], configOption) => checkConfig(file ?? configOption ?? defaultConfigPath(process.env)),
  },
  "config-schema": {
    usage: "config-schema",
    about: "print the config's JSON Schema for editors (the same as config/tgcpa.schema.json)",
    arity: [0, 0],
    run: () => {
      process.stdout.write(renderConfigJsonSchema());
      return 0;
    },
  },
  backup: {
    usage: "backup FILE",
    about: "write an online, consistent copy of the database to FILE (safe while the service runs)",
    arity: [1, 1],
    run: ([file], configOption) => withConfig(configOption, (config) => {
      refuseOnPostgres(config, "backup");
      const { bytes, leads } = backupDatabase(config.storage.path, file!, (line) => say(`backup: ${line}`));
      say(`backup of ${config.storage.path} written to ${file} (${bytes} bytes, ${leads} leads, integrity ok)`);
    }),
  },
  restore: {
    usage: "restore FILE",
    about: "check the backup FILE and put it in place of the database (refused while the service runs)",
    arity: [1, 1],
    run: ([file], configOption) => withConfig(configOption, (config) => {
      refuseOnPostgres(config, "restore");
      const { bytes, leads } = restoreDatabase(config.storage.path, file!, (line) => say(`restore: ${line}`));
      say(`restored ${config.storage.path} from ${file} (${bytes} bytes, ${leads} leads); start the service`);
    }),
  },
  "copy-to-postgres": {
    usage: "copy-to-postgres --to URL",
    about: "copy the SQLite database (storage.path; the service stopped) into an empty PostgreSQL database at URL, counts per table printed",
    arity: [0, 0],
    run: async (_, configOption, { to }) => {
      if (!to) return usageError("copy-to-postgres needs --to URL (usage: tgcpa copy-to-postgres --to URL)");
      try {
        await copyToPostgres(loadConfigFile(configOption ?? defaultConfigPath(process.env)), to, say);
        return 0;
      } catch (err) {
        complain(err instanceof ConfigError || err instanceof StorageError || err instanceof DatabaseInUse ? err.message : `tgcpa: ${(err as Error).message}`);
        return 1;
      }
    },
  },
  version: {
    usage: "version",
    about: "print the version and the commit it was built from",
    arity: [0, 0],
    run: () => {
      say(versionLine());
      return 0;
    },
  },
};

const OPTIONS = {
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  to: { type: "string" },
} as const;

function help(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length)) + 2;
  return `tgcpa ${VERSION}: conversion tracker for Telegram traffic

usage: tgcpa [COMMAND] [--config FILE]

commands:
${Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}${c.about}`).join("\n")}

options:
  -c, --config FILE   the config file (default: $TGCPA_CONFIG, else config/tgcpa.yaml, else config/example.yaml);
                      relative paths inside it are taken from its folder
  -h, --help          print this help
  -V, --version       print the version and the commit
      --to URL        copy-to-postgres: the PostgreSQL database to fill

exit status: 0 done, 1 refused or failed (invalid config, database in use, …), 2 bad command line
`;
}

const versionLine = () => `tgcpa ${VERSION} (commit ${buildCommit()}, bun ${Bun.version})`;
const say = (line: string) => void process.stdout.write(`${line}\n`);
const complain = (line: string) => void process.stderr.write(`${line}\n`);

function usageError(message: string): number {
  complain(`tgcpa: ${message}\nrun tgcpa --help for the commands and options`);
  return USAGE_ERROR;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const named = /'([^']+)'/.exec((err as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && named) return usageError(`unknown option ${named}`);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") return usageError(`${/--[\w-]+/.exec(named ?? "")?.[0] ?? "an option"} needs a value`);
    return usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [name = "serve", ...args] = positionals;
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : undefined;
  // Before --help and --version: `tgcpa bogus --help` is a typo to point out, not a success.
  if (!command) return usageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(", ")})`);
  if (values.help) {
    process.stdout.write(help());
    return 0;
  }
  if (values.version) return COMMANDS.version!.run([], undefined, {});
  if (values.to !== undefined && name !== "copy-to-postgres") return usageError(`--to belongs to copy-to-postgres, not ${name}`);
  const [least, most] = command.arity;
  if (args.length > most) return usageError(`unexpected argument "${args[most]}" (usage: tgcpa ${command.usage})`);
  if (args.length < least) return usageError(`${name} needs ${command.usage.split(" ").slice(1 + args.length).join(" ")} (usage: tgcpa ${command.usage})`);
  if (name === "check-config" && args[0] !== undefined && values.config !== undefined && args[0] !== values.config) {
    return usageError("check-config got two files (FILE and --config); give one");
  }
  return command.run(args, values.config, { to: values.to });
}

function checkConfig(path: string): number {
  try {
    const config = loadConfigFile(path);
    const database = config.storage.driver === "postgres" ? redactUrl(config.storage.url ?? "") : config.storage.path;
    say(`${config.source}: ok (${config.campaigns.length} campaigns, ${Object.keys(config.bots).length} bots, database ${database})`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    complain(err.message);
    return 1;
  }
}

/** A refusal of a maintenance command, with what to do instead; exit 1. */
class Refused extends Error {}

/** backup and restore are SQLite's (one file); a PostgreSQL database is backed up with PostgreSQL's own tools. */
function refuseOnPostgres(config: Config, command: "backup" | "restore") {
  if (config.storage.driver !== "postgres") return;
  const db = redactUrl(config.storage.url ?? "");
  throw new Refused(command === "backup"
    ? `tgcpa backup: storage.driver is postgres (${db}): back it up with PostgreSQL's tools, e.g. pg_dump --format=custom --file=tgcpa.dump "$URL" (or continuous archiving with pg_basebackup), while the instances run`
    : `tgcpa restore: storage.driver is postgres (${db}): restore with PostgreSQL's tools, e.g. stop the instances, then pg_restore --clean --if-exists --dbname="$URL" tgcpa.dump`);
}

/** Loads the config for a maintenance command; a refusal (bad config, database in use, bad backup) is exit 1. */
function withConfig(configOption: string | undefined, work: (config: Config) => void): number {
  try {
    work(loadConfigFile(configOption ?? defaultConfigPath(process.env)));
    return 0;
  } catch (err) {
    complain(err instanceof ConfigError || err instanceof DatabaseInUse || err instanceof Refused ? err.message : `tgcpa: ${(err as Error).message}`);
    return 1;
  }
}

async function serve(configPath: string): Promise<number> {
  // Listened for from the start: a stop asked for while the service is still starting (it answers
  // /health once it listens, before its bots and the other instances are settled) is a clean stop
  // once the start is done, not the default action of the signal.
  const stopAsked = new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  let service;
  try {
    service = await startService({ configPath, onFatal: () => process.exit(1) }); // logged by the service
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StorageError || err instanceof DatabaseInUse) {
      complain(err.message);
      return 1;
    }
    if ((err as { code?: string }).code === "EADDRINUSE") {
      complain(`tgcpa: cannot listen: ${(err as Error).message} (server.host, server.port)`);
      return 1;
    }
    throw err;
  }
  const log = service.deps.log;
  process.on("SIGHUP", () => {
    service.deps.reloadConfig().catch((err: unknown) => {
      if (err instanceof ConfigError) log.error({ issues: err.issues }, "config reload refused; the running config is kept");
      else log.error({ err }, "config reload failed");
    });
  });
  await stopAsked;
  log.info("shutting down");
  try {
    await service.stop();
  } catch (err) {
    log.error({ err }, "shutdown did not finish cleanly");
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
