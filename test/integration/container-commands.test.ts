import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { listenOps } from '../../cli/ops-server.ts';
import { SERVICES } from '../../cli/start.ts';
import { readinessChecks } from '../../core/readiness.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * This machine has no container engine, so the Dockerfile is linted by running its own commands: each
 * stage is rebuilt in a temp folder (WORKDIR /app = the stage's folder) by its COPY lines (what git
 * tracks or would add, less .dockerignore, as the build context would) and its RUN lines' npm commands
 * (`npm ci` as `--dry-run`: the lock file must match package.json; `npm run build:web` for real). Then the
 * runtime tree must hold every module the start command loads and import no dev dependency, each command
 * of docker-compose.yml must be `start <service>` of a service `start` takes; and the compose health check,
 * run as written, must tell a ready process from none.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
/** RUN commands that only prepare the image (packages, folders, owners); everything else must be known. */
const IMAGE_ONLY = new Set(['apt-get', 'rm', 'mkdir', 'chown']);
/** Development scripts in the copied folders that never run in the image (`npm run codes`). */
const DEV_SCRIPTS = new Set(['./core/codes/write-doc.ts', './cli/api-doc.ts']);

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const line of lines.map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op === 'FROM') stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '', instructions: [] });
    else stages.at(-1)!.instructions.push({ op, args });
  }
  return stages;
}

/** The files under `source` (tracked, or new and not ignored by git) that .dockerignore lets into the context. */
async function contextFiles(source: string): Promise<string[]> {
  const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim().replace(/^\*\*\//, ''))
    .filter((l) => l && !l.startsWith('#'));
  const { stdout } = await run(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', source],
    { cwd: ROOT },
  );
  return stdout
    .split('\0')
    .filter(Boolean)
    .filter(
      (f) =>
        !f
          .split('/')
          .some((part) => ignore.some((p) => p === part || (p.startsWith('*') && part.endsWith(p.slice(1))))),
    );
}

/** Rebuild one stage in `dir`; `built` holds the folders of the stages before it. */
async function buildStage(stage: Stage, dir: string, built: Map<string, string>): Promise<string[]> {
  const ran: string[] = [];
  for (const { op, args } of stage.instructions) {
    if (op === 'WORKDIR') assert.equal(args, '/app', 'every stage works in /app');
    if (op === 'COPY') {
      const words = args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice(7);
      const paths = words.filter((w) => !w.startsWith('--'));
      const dest = path.join(dir, paths.pop()!);
      for (const source of paths) {
        if (from) {
          const origin = path.join(built.get(from)!, path.relative('/app', source));
          assert.ok(
            existsSync(origin),
            `COPY --from=${from} ${source}: the ${from} stage made no such thing`,
          );
          cpSync(origin, dest, { recursive: true });
          continue;
        }
        const files = await contextFiles(source);
        assert.ok(files.length > 0, `COPY ${source}: nothing in the build context`);
        for (const f of files) {
          // A file into a folder keeps its name; a folder's files keep their paths below it.
          const single = files.length === 1 && f === source;
          const target = single
            ? path.join(dest, path.basename(f))
            : path.join(dest, source === '.' ? f : path.relative(source, f));
          mkdirSync(path.dirname(target), { recursive: true });
          cpSync(path.join(ROOT, f), target);
        }
      }
    }
    if (op === 'RUN') {
      for (const command of args.split('&&').map((c) => c.trim())) {
        const program = command.split(/\s+/)[0]!;
        // (`npm cache clean` only shrinks the image; here it would empty this machine's npm cache.)
        if (IMAGE_ONLY.has(program) || /^npm cache\b/.test(command)) continue;
        assert.equal(program, 'npm', `RUN ${command}: unknown to this test; teach it what the command needs`);
        if (/^npm ci\b/.test(command)) {
          assert.ok(!existsSync(path.join(dir, 'node_modules')), 'npm ci runs before anything is installed');
          await run('sh', ['-c', `${command} --dry-run`], { cwd: dir });
        } else {
          // The installed dependencies of this checkout stand in for what `npm ci` would have installed.
          if (!existsSync(path.join(dir, 'node_modules')))
            symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
          await run('sh', ['-c', command], { cwd: dir });
        }
        ran.push(command);
      }
    }
  }
  return ran;
}

/** Bare module names the runtime's server code imports (type-only imports are erased and left out). */
function runtimeImports(dir: string, files: string[]): Set<string> {
  const names = new Set<string>();
  for (const f of files) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^'./][^']*)'/gms),
      ...text.matchAll(/^\s*import\s+'([^'./][^']*)'/gm),
      ...text.matchAll(/\bimport\(\s*'([^'./][^']*)'\s*\)/g),
    ].map((m) => m[1]!);
    for (const s of specs)
      names.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);
  }
  return names;
}

/** Each compose service's `command:` (flow list) and the health check's script. */
function composeCommands(): { commands: Map<string, string[]>; healthcheck: string } {
  const text = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  const commands = new Map<string, string[]>();
  let service = '';
  let inServices = false;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) inServices = line.startsWith('services:');
    const key = /^ {2}([a-z][\w-]*):\s*$/.exec(line);
    if (inServices && key) service = key[1]!;
    const command = /^ {4}command:\s*(\[.*\])\s*$/.exec(line);
    if (inServices && command) commands.set(service, JSON.parse(command[1]!.replace(/'/g, '"')) as string[]);
  }
  const healthcheck = /^\s*- "(fetch\('http:\/\/127\.0\.0\.1:8080\/readyz'\).*)"\s*$/m.exec(text)?.[1];
  assert.ok(healthcheck, 'the health check script of docker-compose.yml');
  return { commands, healthcheck };
}

describe('container: the Dockerfile and docker-compose.yml commands, run as written', function () {
  // About 30 s on an idle machine (the web build, two npm dry runs, one start); more on a loaded one.
  this.timeout(240_000);

  it('builds both stages, and the runtime tree starts every compose service', async () => {
    const tmp = tmpDir('sealpost-docker-');
    try {
      const stages = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
      assert.deepEqual(
        stages.map((s) => s.name),
        ['build', 'runtime'],
      );
      const built = new Map<string, string>();
      const ran: string[] = [];
      for (const stage of stages) {
        const dir = path.join(tmp.dir, stage.name);
        mkdirSync(dir);
        ran.push(...(await buildStage(stage, dir, built)));
        built.set(stage.name, dir);
      }
      assert.ok(
        ran.some((c) => /^npm ci --omit=dev\b/.test(c)),
        'the runtime stage installs with --omit=dev',
      );
      assert.ok(ran.includes('npm run build:web'), 'the build stage builds the web bundles');
      const runtime = stages[1]!.instructions;
      const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args;
      assert.ok(user && !['root', '0'].includes(user), 'the runtime runs as a user, not root');
      const dir = built.get('runtime')!;
      for (const bundle of ['webmail/pickup/dist/index.html', 'webmail/console/dist/index.html']) {
        assert.ok(existsSync(path.join(dir, bundle)), bundle);
      }

      // Server code only (the Svelte apps and their build configs are bundled in the build stage).
      const { stdout } = await run(
        'find',
        [
          '.',
          '-path',
          './node_modules',
          '-prune',
          '-o',
          '-type',
          'f',
          '(',
          '-name',
          '*.ts',
          '-o',
          '-name',
          '*.mjs',
          ')',
          '-print',
        ],
        { cwd: dir },
      );
      const server = stdout
        .split('\n')
        .filter((f) => f && !/\/(src|dist)\/|vite\.config\.ts$|sri\.ts$/.test(f) && !DEV_SCRIPTS.has(f));
      const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      for (const name of runtimeImports(dir, server)) {
        const builtin = name.startsWith('node:') || builtinModules.includes(name);
        assert.ok(
          builtin || name in pkg.dependencies,
          `${name} is imported at run time but not a dependency`,
        );
      }

      symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      const entrypoint = JSON.parse(runtime.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
      const cmd = JSON.parse(runtime.find((i) => i.op === 'CMD')!.args) as string[];
      const { commands, healthcheck } = composeCommands();
      assert.deepEqual([...commands.keys()].sort(), ['gateway', 'webmail', 'worker']);
      // The image's command (`start`: every service, so every module is loaded) with an invalid setting stops
      // at the configuration (78): the runtime tree holds all it needs. (One process only: loading the
      // sources through tsx is what takes the time here.) Each compose command names a service `start` takes.
      const [program, ...rest] = entrypoint;
      const started = await run(program === 'node' ? process.execPath : program!, [...rest, ...cmd], {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          SEALPOST_HTTP_PORT: 'not-a-port',
          SEALPOST_DATA_DIR: path.join(tmp.dir, 'data'),
        },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
      );
      assert.equal(started.code, 78, `${cmd.join(' ')}: ${started.stderr}`);
      assert.match(started.stderr, /httpPort/);
      assert.deepEqual(cmd, ['start']);
      for (const [service, args] of commands) {
        assert.deepEqual(args, ['start', service], `the ${service} service runs "sealpost start ${service}"`);
        assert.ok(SERVICES.includes(service as (typeof SERVICES)[number]), service);
      }

      // The health check, as the container runs it, against a gateway's HTTP port and against nothing.
      const gw = await startTestGateway({ kind: 'sqlite', config: { httpPort: 0 } });
      const { deps } = gw.sealpost;
      const ops = await listenOps({
        config: deps.config,
        log: deps.log,
        checks: readinessChecks({ db: deps.db, redis: deps.redis }),
        metrics: deps.metrics,
      });
      try {
        const probe = (port: number) =>
          run(process.execPath, ['-e', healthcheck.replace('127.0.0.1:8080', `127.0.0.1:${port}`)]).then(
            () => 0,
            (e: { code: number }) => e.code,
          );
        assert.equal(await probe(ops.port), 0);
        await new Promise<void>((resolve) => ops.server.close(() => resolve()));
        assert.equal(await probe(ops.port), 1);
      } finally {
        ops.server.close();
        await gw.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
