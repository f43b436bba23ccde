// The house rules of the source tree, checked on every test run: no import cycle anywhere (type
// imports count), and dependencies pointing one way: the domain (algorithms, strategies,
// experiments, email blocks, lifecycle, auth rules) never reaches for a store, a route or the
// app; the stores never reach for the routes or the app.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '../..');
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

const files = ['src', 'jobs', 'bench', 'test'].flatMap(sources);
const imports = new Map(
  files.map((file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1] ?? m[2])));
    return [file, targets] as const;
  }),
);

test('no import cycle anywhere', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const next of imports.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});

const DOMAIN = ['src/cf', 'src/model', 'src/recommend', 'src/experiments', 'src/email', 'src/identity', 'src/lifecycle', 'src/lib', 'src/auth', 'src/eval', 'src/http'];
const COMPOSITION = ['src/app.ts', 'src/deps.ts', 'src/tenants.ts', 'src/server.ts', 'src/routes', 'src/privacy', 'src/demo'];
const under = (file: string, dirs: readonly string[]) => dirs.some((d) => file === d || file.startsWith(`${d}/`));

test('dependencies point one way: domain ← stores ← routes and the app', () => {
  const wrong: string[] = [];
  for (const [file, targets] of imports) {
    for (const target of targets) {
      if (under(file, DOMAIN) && under(target, ['src/store', ...COMPOSITION])) wrong.push(`${file} → ${target}`);
      if (under(file, ['src/store']) && under(target, COMPOSITION)) wrong.push(`${file} → ${target}`);
      if (under(file, ['src/routes']) && target === 'src/app.ts') wrong.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('every relative import names a file that exists', () => {
  const missing = [...imports].flatMap(([file, targets]) => targets.filter((t) => !files.includes(t) && !/\.(json|js)$/.test(t)).map((t) => `${file} → ${relative('.', t)}`));
  assert.deepEqual(missing, []);
});

const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((name) => join('docs', name))].filter((f) => f.endsWith('.md'));

test('no merge left its conflict markers in a source file or a doc', () => {
  const MARKER = /^(?:<{7}|>{7}) /m;
  assert.deepEqual(
    [...files, ...docs].filter((file) => MARKER.test(readFileSync(join(ROOT, file), 'utf8'))),
    [],
  );
});

test('every source path named in a comment or a doc exists (a moved file leaves no stale pointer)', () => {
  const PATH = /\b(?:src|jobs|test|bench|scripts|docs|deploy|templates)\/[\w./-]+\.(?:ts|mjs|md|sh|sql|json|html|py|csv)\b/g;
  const stale = [...files, ...docs].flatMap((file) =>
    [...readFileSync(join(ROOT, file), 'utf8').matchAll(PATH)]
      // URL paths (…/docs/static/…) and generated outputs (results/, test-output/) are not files of the tree.
      .filter((m) => !/[/\w]$/.test(m.input.slice(0, m.index).slice(-1)) && !m[0].startsWith('docs/static/'))
      .filter((m) => !existsSync(join(ROOT, m[0])))
      .map((m) => `${file}: ${m[0]}`),
  );
  assert.deepEqual(stale, []);
});
