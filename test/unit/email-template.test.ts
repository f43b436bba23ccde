import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { TEMPLATE_NAMES } from '../../src/email/block.ts';
import { compileTemplate } from '../../src/email/template.ts';
import { escapeHtml } from '../../src/lib/html.ts';

const NAMES = new Set(['title', 'items', 'rows', 'cells', 'link', 'price', 'empty', 'flag']);
const render = (source: string, context: Record<string, unknown>) => compileTemplate(source, NAMES).render(context as never);

describe('email template language', () => {
  test('values are HTML-escaped, always', () => {
    const hostile = `<script>alert("x")</script> & 'q' \`b\` a=b`;
    assert.equal(
      render('<p title="{{title}}">{{title}}</p>', { title: hostile }),
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; &#96;b&#96; a&#61;b">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; &#96;b&#96; a&#61;b</p>',
    );
    assert.equal(escapeHtml('"><img onerror=x>'), '&quot;&gt;&lt;img onerror&#61;x&gt;');
  });

  test('triple braces are no way around the escaping', () => {
    assert.throws(() => render('{{{title}}}', { title: '<b>' }), /unknown name "\{title"/);
  });

  test('lists repeat with their fields in scope; outer names stay visible', () => {
    const out = render('{{#items}}[{{title}} {{price}}]{{/items}}', { price: 'outer', items: [{ title: 'a', price: '1' }, { title: 'b' }] });
    assert.equal(out, '[a 1][b outer]');
  });

  test('nested lists (rows of cells)', () => {
    const out = render('{{#rows}}<tr>{{#cells}}<td>{{title}}</td>{{/cells}}</tr>{{/rows}}', { rows: [{ cells: [{ title: 'a' }, { title: 'b' }] }, { cells: [{ title: 'c' }] }] });
    assert.equal(out, '<tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>');
  });

  test('sections on scalars show when set; inverted sections when not', () => {
    const t = '{{#link}}<a href="{{link}}">{{/link}}x{{#link}}</a>{{/link}}{{^items}} none{{/items}}';
    assert.equal(render(t, { link: 'https://s/1', items: [] }), '<a href="https://s/1">x</a> none');
    assert.equal(render(t, { link: null, items: [{}] }), 'x');
    assert.equal(render('{{#flag}}on{{/flag}}{{^flag}}off{{/flag}}', { flag: false }), 'off');
    assert.equal(render('{{#price}}{{price}}{{/price}}', { price: '' }), '');
  });

  test('missing values and lists render as nothing; comments are dropped', () => {
    assert.equal(render('a{{title}}b{{items}}c{{! a note }}d', { items: [{ title: 'x' }] }), 'abcd');
  });

  test('unknown names and unbalanced sections fail at compile time, with the line', () => {
    assert.throws(() => compileTemplate('ok\n{{titel}}', NAMES), /line 2: unknown name "titel"/);
    assert.throws(() => compileTemplate('{{#items}}\n{{/rows}}', NAMES), /line 2: \{\{\/rows\}\} closes \{\{#items\}\} of line 1/);
    assert.throws(() => compileTemplate('{{#items}}x', NAMES), /\{\{#items\}\} is never closed/);
    assert.throws(() => compileTemplate('{{/items}}', NAMES), /closes nothing/);
    assert.throws(() => compileTemplate('{{constructor}}', NAMES), /unknown name/);
  });

  test('the shipped template compiles with the documented names', async () => {
    const source = await readFile(new URL('../../templates/email-block.html', import.meta.url), 'utf8');
    assert.doesNotThrow(() => compileTemplate(source, TEMPLATE_NAMES));
    assert.doesNotMatch(source, /<script|javascript:|on[a-z]+=/i);
  });
});
