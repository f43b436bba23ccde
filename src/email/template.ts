// The email block's template language: a tiny, logic-less subset of Mustache, so a shop can
// restyle its block by editing a file, never code. Every value is HTML-escaped; there is no
// raw output at all, so no catalog string can inject markup.
//   {{name}}                 the value, escaped
//   {{#name}} … {{/name}}    repeated for each element of a list (its fields come into scope),
//                            or shown once when the value is truthy
//   {{^name}} … {{/name}}    shown when the value is missing, false or an empty list
//   {{! comment }}           left out
// Names are checked when the template is compiled (at start-up): a typo fails fast.
import { escapeHtml } from '../lib/html.ts';

type Node = { kind: 'text'; text: string } | { kind: 'value'; name: string } | { kind: 'section'; name: string; inverted: boolean; children: Node[] };

export type TemplateValue = string | number | boolean | null | undefined | TemplateContext | TemplateContext[];
export interface TemplateContext {
  [name: string]: TemplateValue;
}

export interface Template {
  render(context: TemplateContext): string;
}

const TAG = /\{\{\s*([#^/!]?)\s*([^}]*?)\s*\}\}/g;
const NAME = /^[a-z][a-z0-9_]*$/;

function lineOf(source: string, index: number): number {
  return source.slice(0, index).split('\n').length;
}

/** Parses `source`; throws naming the line of the first unknown name or unbalanced section. */
export function compileTemplate(source: string, names: ReadonlySet<string>): Template {
  const root: Node[] = [];
  const open: { name: string; children: Node[]; line: number }[] = [];
  let children = root;
  let last = 0;
  for (const match of source.matchAll(TAG)) {
    const [tag, sigil, name] = match;
    const line = lineOf(source, match.index);
    if (match.index > last) children.push({ kind: 'text', text: source.slice(last, match.index) });
    last = match.index + tag.length;
    if (sigil === '!') continue;
    if (!NAME.test(name) || !names.has(name)) {
      throw new Error(`template line ${line}: unknown name "${name}" in ${tag} (known: ${[...names].sort().join(', ')})`);
    }
    if (sigil === '/') {
      const section = open.pop();
      if (section?.name !== name) throw new Error(`template line ${line}: ${tag} closes ${section ? `{{#${section.name}}} of line ${section.line}` : 'nothing'}`);
      children = open.at(-1)?.children ?? root;
    } else if (sigil === '#' || sigil === '^') {
      const node: Node = { kind: 'section', name, inverted: sigil === '^', children: [] };
      children.push(node);
      open.push({ name, children: node.children, line });
      children = node.children;
    } else {
      children.push({ kind: 'value', name });
    }
  }
  if (open.length > 0) throw new Error(`template line ${open[0].line}: {{#${open[0].name}}} is never closed`);
  if (last < source.length) children.push({ kind: 'text', text: source.slice(last) });
  return { render: (context) => renderNodes(root, [context]) };
}

/** The innermost context that has `name` decides (Mustache's scoping). */
function lookup(scopes: readonly TemplateContext[], name: string): TemplateValue {
  for (let i = scopes.length - 1; i >= 0; i--) if (Object.hasOwn(scopes[i], name)) return scopes[i][name];
  return undefined;
}

function isEmpty(value: TemplateValue): boolean {
  return Array.isArray(value) ? value.length === 0 : value === null || value === undefined || value === false || value === '';
}

function renderNodes(nodes: readonly Node[], scopes: TemplateContext[]): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') {
      out += node.text;
    } else if (node.kind === 'value') {
      const value = lookup(scopes, node.name);
      // Lists and objects have no text form: they only open sections.
      if (typeof value === 'string' || typeof value === 'number') out += escapeHtml(String(value));
    } else {
      const value = lookup(scopes, node.name);
      if (node.inverted) {
        if (isEmpty(value)) out += renderNodes(node.children, scopes);
      } else if (Array.isArray(value)) {
        for (const element of value) out += renderNodes(node.children, [...scopes, element]);
      } else if (!isEmpty(value)) {
        out += renderNodes(node.children, typeof value === 'object' && value !== null ? [...scopes, value] : scopes);
      }
    }
  }
  return out;
}
