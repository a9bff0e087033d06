import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/index.js';

/**
 * No Docker engine runs where this project is built and tested, so docker-compose.yml cannot be started
 * here. This test holds it to the Dockerfile instead: the same paths, port, environment and health
 * check, stores the gateway can reach, and a configuration the gateway accepts.
 */

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface FinalStage {
  env: Record<string, string>;
  volumes: string[];
  expose: string[];
  workdir: string;
  copies: Array<{ from?: string; src: string; dest: string }>;
  entrypoint: string[];
  healthcheckScript: string;
}

/** The runtime (last) stage of the Dockerfile, read instruction by instruction. */
function finalStage(dockerfile: string): FinalStage {
  const instructions = dockerfile
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const last = instructions.map((l) => l.startsWith('FROM ')).lastIndexOf(true);
  const stage: FinalStage = {
    env: {},
    volumes: [],
    expose: [],
    workdir: '/',
    copies: [],
    entrypoint: [],
    healthcheckScript: '',
  };
  for (const line of instructions.slice(last + 1)) {
    const [word = '', ...rest] = line.split(/\s+/);
    const args = line.slice(word.length).trim();
    if (word === 'ENV') {
      for (const pair of rest) {
        const [key = '', value = ''] = pair.split('=');
        stage.env[key] = value;
      }
    } else if (word === 'VOLUME') stage.volumes.push(...(JSON.parse(args) as string[]));
    else if (word === 'EXPOSE') stage.expose.push(...rest);
    else if (word === 'WORKDIR') stage.workdir = args;
    else if (word === 'ENTRYPOINT') stage.entrypoint = JSON.parse(args) as string[];
    else if (word === 'COPY') {
      const from = rest.find((r) => r.startsWith('--from='))?.slice('--from='.length);
      const [src = '', dest = ''] = rest.filter((r) => !r.startsWith('--'));
      stage.copies.push({ ...(from ? { from } : {}), src, dest });
    } else if (word === 'HEALTHCHECK') {
      const script = /CMD node -e "(.*)"$/.exec(args)?.[1];
      if (script) stage.healthcheckScript = script;
    }
  }
  return stage;
}

/** Compose's `${VAR:?message}` and `${VAR:-default}`, with the values an operator's .env would give. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_m, name: string, op?: string, rest?: string) => {
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    if (op === '-') return rest ?? '';
    throw new Error(`${name} is required: ${rest ?? ''}`);
  });
}

interface Service {
  build?: string | { context: string; dockerfile?: string };
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  command?: string[];
}

interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const docker = finalStage(read('Dockerfile'));
const compose = parse(read('docker-compose.yml')) as Compose;
const dotEnv = { POSTGRES_PASSWORD: 'a-password-from-dot-env' };
const gateway = compose.services.gateway as Service;
const postgres = compose.services.postgres as Service;
const redis = compose.services.redis as Service;
const gatewayEnv = Object.fromEntries(
  Object.entries(gateway.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), dotEnv)]),
);

t.test('three services: the gateway built from the Dockerfile, PostgreSQL and Redis', async (t) => {
  t.same(Object.keys(compose.services).sort(), ['gateway', 'postgres', 'redis']);
  const build = gateway.build;
  const context = typeof build === 'string' ? build : build?.context;
  t.equal(context, '.', 'built from the repository root, where the Dockerfile is');
  if (typeof build === 'object') t.equal(build.dockerfile ?? 'Dockerfile', 'Dockerfile');
  for (const name of ['postgres', 'redis'] as const) {
    const image = compose.services[name]?.image ?? '';
    t.match(image, new RegExp(`^${name}:\\d+`), `${name} is pinned to a major version, not latest`);
  }
});

t.test('the gateway mounts exactly the Dockerfile volumes, as named volumes', async (t) => {
  const mounts = (gateway.volumes ?? []).map((v) => v.split(':'));
  t.same(mounts.map(([, target]) => target).sort(), [...docker.volumes].sort());
  for (const [source] of mounts) t.ok(source && source in compose.volumes, `${source} is a declared volume`);
  t.ok(docker.volumes.includes(docker.env.SGW_CERTS_DIR ?? ''), 'the certs folder is a volume');
  t.ok(docker.volumes.includes(docker.env.SGW_DATA_DIR ?? ''), 'the data folder is a volume');
});

t.test('the published port is the one the image exposes and listens on', async (t) => {
  t.same(docker.expose, [docker.env.PORT]);
  const [published, target] = (gateway.ports?.[0] ?? '').split(':');
  t.equal(target, docker.env.PORT);
  t.equal(published, docker.env.PORT);
  t.equal(gateway.ports?.length, 1);
});

t.test('the gateway accepts the environment the image and compose give it together', async (t) => {
  t.notOk(
    'PORT' in gatewayEnv || 'SGW_CERTS_DIR' in gatewayEnv || 'SGW_DATA_DIR' in gatewayEnv,
    'left to the image',
  );
  const config = loadConfig({ ...docker.env, ...gatewayEnv });
  t.equal(config.certsDir, docker.env.SGW_CERTS_DIR);
  t.equal(config.dataDir, docker.env.SGW_DATA_DIR);
  t.equal(config.policiesDir, docker.env.SGW_POLICIES_DIR);
  t.equal(config.port, Number(docker.env.PORT));
  t.equal(config.host, '0.0.0.0', 'listens beyond the container');
  t.equal(config.gatewayId, 'sgw');
  t.throws(() => interpolate(gateway.environment?.DATABASE_URL ?? '', {}), /POSTGRES_PASSWORD is required/);
});

t.test('the gateway reaches the PostgreSQL and Redis services with their own credentials', async (t) => {
  const db = new URL(gatewayEnv.DATABASE_URL ?? '');
  const pgEnv = postgres.environment ?? {};
  t.equal(db.hostname, 'postgres');
  t.equal(db.port, '5432');
  t.equal(db.username, pgEnv.POSTGRES_USER);
  t.equal(db.password, interpolate(pgEnv.POSTGRES_PASSWORD ?? '', dotEnv));
  t.equal(db.pathname, `/${pgEnv.POSTGRES_DB}`);
  const cache = new URL(gatewayEnv.REDIS_URL ?? '');
  t.equal(cache.hostname, 'redis');
  t.equal(cache.port, '6379');
  t.ok(redis.command?.includes('noeviction'), 'BullMQ needs Redis never to evict its keys');
  t.same(Object.keys(gateway.depends_on ?? {}).sort(), ['postgres', 'redis']);
  for (const dep of Object.values(gateway.depends_on ?? {})) t.equal(dep.condition, 'service_healthy');
});

t.test('every service has a health check; the gateway uses the Dockerfile one', async (t) => {
  for (const [name, service] of Object.entries(compose.services)) {
    t.ok(service.healthcheck?.test?.length, `${name} has a health check`);
  }
  t.ok(docker.healthcheckScript.includes('/health/live'));
  t.same(gateway.healthcheck?.test, ['CMD', 'node', '-e', docker.healthcheckScript]);
});

t.test('the image holds what serve needs at run time', async (t) => {
  const local = docker.copies.filter((c) => !c.from);
  const built = docker.copies.filter((c) => c.from === 'build');
  const inApp = (dest: string) => path.posix.resolve(docker.workdir, dest);
  t.ok(
    local.some((c) => c.src === 'policies' && inApp(c.dest) === docker.env.SGW_POLICIES_DIR),
    'the policy bundle is copied to SGW_POLICIES_DIR',
  );
  t.ok(
    built.some((c) => c.src === '/app/dist'),
    'the compiled code',
  );
  t.ok(
    built.some((c) => c.src === '/app/node_modules'),
    'the production dependencies',
  );
  t.same(docker.entrypoint.slice(0, 2), ['node', 'dist/cli/main.js']);
  const ignored = read('.dockerignore').split('\n');
  for (const secret of ['certs', 'var', '.env', 'node_modules']) {
    t.ok(ignored.includes(secret), `${secret} never goes to the Docker daemon`);
  }
});

t.test('the operator guide runs its sgw commands in the gateway service', async (t) => {
  const guide = read('docs/operator.md');
  const runs = [...guide.matchAll(/docker compose run ([^\n]*)/g)].map((m) => m[1] ?? '');
  t.ok(runs.length >= 3, 'the guide shows docker compose run');
  for (const run of runs) {
    const service = run
      .split(/\s+/)
      .filter((w, i, all) => !w.startsWith('-') && !all[i - 1]?.match(/^(-v|--volume|--entrypoint|-e)$/))[0];
    t.ok(service && service in compose.services, `"docker compose run ${run}" names a service`);
  }
});
