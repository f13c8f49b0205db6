/**
 * The layout rules of ARCHITECTURE.md, checked on the code's own imports:
 * - no import cycle between the folders of src/ (shared infrastructure lives in leaf
 *   modules: secrets, egress, events, queue, database, common, config, plugin);
 * - a plugin imports only src/plugin (the contract) and its own folder;
 * - the core never imports a plugin, except where the plugins are registered;
 * - each table has one owner: only its folder's code holds SQL on it; others call its
 *   repository, or embed an SQL fragment the owner exports (the relay's one-statement reads).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

const ROOT = resolve(__dirname, '..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s+['"]([^'"]+)['"]/g;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.ts$/.test(name) && !/\.test\.ts$/.test(name)) out.push(path);
  }
  return out;
}

/** Relative imports of a file, as paths from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)]
    .map((m) => m[1])
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(ROOT, resolve(dirname(file), spec)));
}

/** `src/relay/intake.ts` → `relay`; a file right in src/ is its own unit. */
const unitOf = (path: string): string => {
  const parts = path.split('/');
  return parts.length > 2 ? parts[1] : parts[1].replace(/\.ts$/, '');
};

/** Strongly connected groups of more than one unit (Tarjan). */
function cycles(edges: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The one folder whose code holds the SQL of each table. */
const TABLE_OWNERS: Record<string, string> = {
  smime_relay_migrations: 'src/database',
  tenants: 'src/tenants',
  smtp_credentials: 'src/tenants',
  api_keys: 'src/common',
  certificates: 'src/certificates',
  signing_keys: 'src/certificates',
  messages: 'src/relay',
  message_attempts: 'src/relay',
  refusals: 'src/relay',
  delivery_settings: 'src/relay',
  events: 'src/events',
  event_deliveries: 'src/events',
  webhook_subscriptions: 'src/webhooks',
  webhook_deliveries: 'src/webhooks',
  certificate_notices: 'src/webhooks',
  integrations: 'src/integrations',
  feedback_deliveries: 'src/integrations',
  dkim_keys: 'src/dkim',
  unsubscribe_links: 'src/unsubscribe',
  transit_check_settings: 'src/transit',
  transit_checks: 'src/transit',
};

describe('the layout', () => {
  test('no import cycle between the folders of src/', () => {
    const edges = new Map<string, Set<string>>();
    const why = new Map<string, string>();
    for (const file of sources(join(ROOT, 'src'))) {
      const from = unitOf(relative(ROOT, file));
      for (const target of importsOf(file)) {
        if (!target.startsWith('src/')) continue;
        const to = unitOf(target);
        if (to === from) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
        why.set(`${from}->${to}`, `${relative(ROOT, file)} imports ${target}`);
      }
    }
    const found = cycles(edges);
    const explain = found.map((group) =>
      group
        .flatMap((a) => group.map((b) => why.get(`${a}->${b}`)))
        .filter(Boolean)
        .join('\n    '),
    );
    assert.deepEqual(found, [], `import cycles:\n    ${explain.join('\n\n    ')}`);
    assert.ok(edges.size > 10, 'the imports were read');
  });

  test('the cycle check finds a cycle when there is one', () => {
    const edges = new Map([
      ['relay', new Set(['secrets'])],
      ['secrets', new Set(['relay'])],
      ['egress', new Set<string>()],
    ]);
    assert.deepEqual(cycles(edges), [['relay', 'secrets']]);
  });

  test('plugins import only src/plugin and their own folder', () => {
    const wrong: string[] = [];
    for (const file of sources(join(ROOT, 'plugins'))) {
      const own = relative(ROOT, file).split('/').slice(0, 2).join('/');
      for (const target of importsOf(file)) {
        const allowed = target.startsWith('src/plugin/') || target.startsWith(`${own}/`);
        if (!allowed) wrong.push(`${relative(ROOT, file)} imports ${target}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('every controller with routes under a :tenantId checks the tenant with TenantScope', () => {
    const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'plugins'))].filter((f) =>
      /@Controller\(/.test(readFileSync(f, 'utf8')),
    );
    const unguarded = files.filter((f) => {
      const text = readFileSync(f, 'utf8');
      return text.includes(':tenantId') && !/@UseGuards\(BearerGuard, TenantScope\)/.test(text);
    });
    assert.ok(files.length > 10, 'the controllers were found');
    assert.deepEqual(
      unguarded.map((f) => relative(ROOT, f)),
      [],
    );
  });

  test('the core imports no plugin, except app.module.ts where they are registered', () => {
    const wrong = sources(join(ROOT, 'src')).flatMap((file) =>
      importsOf(file)
        .filter((t) => t.startsWith('plugins/') && !file.endsWith('src/app.module.ts'))
        .map((t) => `${relative(ROOT, file)} imports ${t}`),
    );
    assert.deepEqual(wrong, []);
  });

  test('each table is read and written only by its owner (one folder per table)', () => {
    const migrations = join(ROOT, 'src/database/migrations');
    const tables = readdirSync(migrations)
      .flatMap((f) => [
        ...readFileSync(join(migrations, f), 'utf8').matchAll(
          /CREATE TABLE (?:IF NOT EXISTS )?(\w+)/g,
        ),
      ])
      .map((m) => m[1]);
    const owners = Object.keys(TABLE_OWNERS).sort();
    // The migrator's own table is made in code, not in a migration.
    const all = [...new Set([...tables, 'smime_relay_migrations'])].sort();
    assert.deepEqual(owners, all, 'every table has an owner');
    const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'plugins'))];
    const wrong: string[] = [];
    for (const file of files) {
      const path = relative(ROOT, file);
      const text = readFileSync(file, 'utf8');
      for (const [table, owner] of Object.entries(TABLE_OWNERS)) {
        if (path.startsWith(`${owner}/`)) continue;
        const sql = new RegExp(`\\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\\s+${table}\\b`);
        if (sql.test(text)) wrong.push(`${path} has SQL on ${table} (owner: ${owner})`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
