// Command-line entry: argument parsing (commander), config, exit codes.
//   0 done, 1 runtime failure (unreadable capture, worker crash), 2 usage or config error.

import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG } from '../config/defaults';
import { ConfigError, loadConfig } from '../config/load';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, UsageError } from './errors';
import { makeLogger } from './log';
import { parseListenAddress } from '../output/metrics-server';
import { replay } from './replay';
import { addSinkOptions, buildSinks } from './sink-options';
import { addEndpointOptions, buildEndpointFeed, EndpointCliOptions } from './endpoint-options';
import { abandonSinks, SinkRoute } from './sensor';
import { TunnelhoundConfig } from '../config/defaults';
import { Logger } from './log';

// package.json sits outside the compiled tree, so it is read at run time, not imported.
const VERSION: string = require(path.join(__dirname, '../../../package.json')).version;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function intOption(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/**
 * Default shard workers: one per core beyond the dispatcher's, from four cores up. Below
 * that the dispatcher and one shard fight for two cores and lose to the inline path
 * (bench/README.md, 2 cores: bulk 533 k packets/s inline against 328 k with one worker;
 * 300 k short flows 582 k against 274 k).
 */
function defaultWorkers(): number {
  const cores = os.availableParallelism();
  return cores >= 4 ? cores - 1 : 0;
}

function common(cmd: Command): Command {
  return cmd
    .option('--alerts <file>', 'where alerts go (NDJSON, "-" = standard output)', '-')
    .option('--flows <file>', 'also write flow records (NDJSON) to this file')
    .option('--config <file>', 'config file (YAML or JSON) with tunables over the defaults')
    .option('--bpf <expr>', 'BPF filter applied by libpcap')
    .addOption(new Option('--workers <n>', 'shard worker threads (0 = inline)')
      .argParser(intOption('--workers', 0, 256)).default(defaultWorkers()))
    .addOption(logLevelOption())
    .addOption(new Option('--rotate-size <bytes>', 'start a new --alerts/--flows file past ' +
      'this size').argParser(intOption('--rotate-size', 4096, Number.MAX_SAFE_INTEGER)))
    .addOption(new Option('--rotate-interval <seconds>', 'start a new --alerts/--flows file ' +
      'this often').argParser(intOption('--rotate-interval', 1, 366 * 86400)));
}

function listenOption(v: string) {
  try {
    return parseListenAddress(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function rotation(o: { rotateSize?: number; rotateInterval?: number }) {
  return { maxBytes: o.rotateSize, maxAgeSec: o.rotateInterval };
}

function logLevelOption(): Option {
  return new Option('--log-level <level>', 'pino log level on standard error')
    .choices(LOG_LEVELS).default('warn');
}

/** Two outputs sharing one file would interleave into invalid lines. */
function checkDistinctOutputs(o: { alerts?: string; flows?: string }): void {
  if (o.flows !== undefined && o.alerts !== '-' && o.alerts === o.flows) {
    throw new UsageError(`--alerts and --flows name the same file (${o.flows}); ` +
      'each output needs its own');
  }
}

/** The endpoint feed first (a listener binds a port): a failure releases the sinks built. */
async function withEndpoint<T>(o: EndpointCliOptions, config: TunnelhoundConfig, log: Logger,
  sinks: SinkRoute[] | undefined,
  run: (endpoint: Awaited<ReturnType<typeof buildEndpointFeed>>) => Promise<T>): Promise<T> {
  let endpoint;
  try {
    endpoint = await buildEndpointFeed(o, config, log);
  } catch (err) {
    await abandonSinks(sinks);
    throw err;
  }
  return run(endpoint);
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('tunnelhound')
    .description('find protocol tunnels in network traffic (MITRE ATT&CK T1572)')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let result: Promise<unknown> | null = null;

  addEndpointOptions(addSinkOptions(common(program.command('replay')
    .description('replay pcap/pcapng capture files and print alerts')
    .argument('<capture...>', 'capture files (pcap, nanosecond pcap, pcapng)'))), 'replay')
    .option('--no-progress', 'no progress bar even on a terminal')
    .action((files: string[], o) => {
      checkDistinctOutputs(o);
      const log = makeLogger(o.logLevel);
      const config = loadConfig(o.config);
      const sinks = buildSinks(o);
      result = withEndpoint(o, config, log, sinks, (endpoint) => replay({
        files, config, workers: o.workers, alerts: o.alerts, flows: o.flows, bpf: o.bpf,
        sinks, deliveryTimeoutMs: o.deliveryTimeout * 1000, rotate: rotation(o),
        progress: o.progress !== false && process.stderr.isTTY === true, log, endpoint,
      }));
    });

  program.command('fingerprints')
    .description('print one JSON object per flow with its JA4, JA3, JA3S and HASSH values')
    .argument('<capture...>', 'capture files (pcap, nanosecond pcap, pcapng)')
    .option('--bpf <expr>', 'BPF filter applied by libpcap')
    .addOption(new Option('--workers <n>', 'shard worker threads (0 = inline)')
      .argParser(intOption('--workers', 0, 256)).default(defaultWorkers()))
    .addOption(logLevelOption())
    .action((files: string[], o) => {
      result = replay({
        files, config: DEFAULT_CONFIG, workers: o.workers, fingerprints: '-', bpf: o.bpf,
        progress: false, log: makeLogger(o.logLevel),
      });
    });

  addEndpointOptions(addSinkOptions(common(program.command('live')
    .description('capture from a live interface until SIGINT/SIGTERM'))), 'live')
    .requiredOption('--interface <if>', 'interface to capture on')
    .addOption(new Option('--snaplen <bytes>', 'bytes kept per packet')
      .argParser(intOption('--snaplen', 64, 262144)).default(262144))
    .addOption(new Option('--buffer-size <bytes>', 'kernel capture buffer')
      .argParser(intOption('--buffer-size', 65536, 2 ** 31 - 1)).default(32 * 1024 * 1024))
    .option('--no-promiscuous', 'do not put the interface in promiscuous mode')
    .addOption(new Option('--metrics <host:port>', 'serve Prometheus /metrics and /healthz ' +
      'here (port 0: any free port, logged)').argParser(listenOption))
    .addOption(new Option('--stats-interval <seconds>', 'log capture statistics this often')
      .argParser(intOption('--stats-interval', 1, 86400)).default(60))
    .option('--user <name[:group]>', 'switch to this user once the interface, the outputs ' +
      'and the metrics port are open (needs root)')
    .action((o) => {
      checkDistinctOutputs(o);
      const log = makeLogger(o.logLevel);
      const config = loadConfig(o.config);
      const sinks = buildSinks(o);
      // Loaded here: live pulls in prom-client (20 ms of start-up every replay would pay).
      const { live } = require('./live') as typeof import('./live');
      result = withEndpoint(o, config, log, sinks, (endpoint) => live({
        sinks, deliveryTimeoutMs: o.deliveryTimeout * 1000, rotate: rotation(o),
        device: o.interface, snaplen: o.snaplen, bufferSize: o.bufferSize,
        promiscuous: o.promiscuous !== false, config, workers: o.workers, alerts: o.alerts,
        flows: o.flows, bpf: o.bpf, log, endpoint, metrics: o.metrics,
        statsIntervalMs: o.statsInterval * 1000, user: o.user,
        spool: sinks.length > 0 ? o.spool : undefined,
        // Standard input cannot be read twice: such a config is not reloaded.
        configFile: o.config === '-' ? undefined : o.config,
      }));
    });

  program.command('endpoint').description('endpoint telemetry tools')
    .command('parse')
    .description('print the normalised endpoint events of a telemetry file as NDJSON')
    .argument('<file>', 'endpoint log (Windows XML, ECS, osquery, eslogger, ...); - = stdin')
    .option('--format <format>', 'skip detection and read the file as this format')
    .addOption(logLevelOption())
    .action((file: string, o) => {
      const { endpointParse } = require('./endpoint-parse') as typeof import('./endpoint-parse');
      result = endpointParse({ file, format: o.format, out: process.stdout, err: process.stderr,
        log: makeLogger(o.logLevel) });
    });

  const configCmd = program.command('config')
    .description('check a config file, or print the documented defaults');
  configCmd.command('check')
    .description('validate a config file (exit 0 valid, 2 with every problem listed)')
    .argument('<file>', 'YAML or JSON config file, "-" = standard input')
    .action((file: string) => {
      // Loaded here: the schema and YAML printer are not needed by a capture run.
      const { configCheck } = require('./config-cmd') as typeof import('./config-cmd');
      process.stdout.write(`${configCheck(file)}\n`);
      result = Promise.resolve();
    });
  configCmd.command('defaults')
    .description('print the full default config as YAML, each key with its documentation')
    .action(() => {
      const { configDefaults } = require('./config-cmd') as typeof import('./config-cmd');
      process.stdout.write(configDefaults());
      result = Promise.resolve();
    });

  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      // One line per problem, so a file with several mistakes is fixed in one round.
      for (const p of err.problems) process.stderr.write(`tunnelhound: ${p}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof UsageError ||
      /^ERR_SINK_/.test(String((err as { code?: string }).code))) {
      process.stderr.write(`tunnelhound: ${(err as Error).message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (result === null) return EXIT_USAGE;
  try {
    await result;
    return EXIT_OK;
  } catch (err) {
    const e = err as Error & { code?: string };
    // The reader of our output went away (`| head`): nothing is wrong, nothing to say.
    if (e.code === 'ERR_OUTPUT_CLOSED') return EXIT_OK;
    process.stderr.write(`tunnelhound: ${e.message}\n`);
    if (err instanceof UsageError) return EXIT_USAGE;
    return e.code === 'ERR_CAPTURE_ARG' || e.code === 'ERR_CAPTURE_FILTER' ||
      e.code === 'ERR_METRICS_LISTEN' ? EXIT_USAGE : EXIT_RUNTIME;
  }
}
