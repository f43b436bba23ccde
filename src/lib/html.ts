// HTML written by hand (the experiment report, the lifecycle chart, the email template, the demo
// storefront): one escaper, and an `html` tag that escapes every interpolated value unless it is
// markup the tag itself produced, so no catalog string or name can inject HTML.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;', '=': '&#61;' };

/** Escapes text for element content and for quoted or unquoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => ESCAPES[c]);
}

export class Markup {
  constructor(readonly text: string) {}
}

export type HtmlValue = Markup | string | number | null | undefined | readonly Markup[];

function render(value: HtmlValue): string {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map((v: Markup) => v.text).join('');
  return escapeHtml(String(value ?? ''));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Markup {
  return new Markup(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]) : ''), ''));
}
