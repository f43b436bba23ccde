// <recs-widget>: a recommendations block for shop pages. One dependency-free script, no build
// step; served by src/routes/widget.ts, documented in docs/widget.md. Budget: 10 KB gzipped
// (test/unit/widget-size.test.ts).
(() => {
  const TAG = 'recs-widget';
  // Without custom elements the element's light DOM (its fallback content) simply shows.
  if (!window.customElements || customElements.get(TAG)) return;

  const STRATEGIES = ['recently-viewed', 'same-brand', 'collaborative', 'popular', 'buy-again', 'for-you'];
  const BY_ITEM = ['same-brand', 'collaborative'];
  const TRACKED = ['view', 'cart', 'purchase', 'click'];
  const FIELDS = 'title,price,currency,url,image_url';
  const MEMORY = 'recs:request-ids';
  const MEMORY_SIZE = 50;
  const TIMEOUT_MS = 8000;
  const SEEN_MS = 1000;
  // The API is where the script came from, unless the element says otherwise (api="…").
  const script = document.currentScript;
  const DEFAULT_API = script?.src ? new URL(script.src).origin : location.origin;

  const CSS = `
:host{all:initial;display:block;contain:layout style;font-family:var(--recs-font-family,inherit);font-size:var(--recs-font-size,inherit);color:var(--recs-color,inherit);line-height:1.3}
:host([hidden]){display:none}
*{box-sizing:border-box}
h2{margin:0 0 .5em;font-size:var(--recs-title-size,1.25em);font-weight:600;line-height:1.3}
ul{display:grid;grid-template-columns:repeat(auto-fill,minmax(var(--recs-card-min,150px),1fr));gap:var(--recs-gap,16px);margin:0;padding:4px;list-style:none}
:host([layout=row]) ul{grid-auto-flow:column;grid-template-columns:none;grid-auto-columns:var(--recs-card-width,160px);overflow-x:auto;overscroll-behavior-x:contain;scroll-snap-type:x mandatory;scroll-padding:4px}
li{min-width:0;scroll-snap-align:start}
.card{display:flex;flex-direction:column;gap:6px;height:100%;padding:var(--recs-card-padding,0);border-radius:var(--recs-radius,8px);background:var(--recs-card-bg,transparent);color:inherit;text-decoration:none}
a.card:hover .name{text-decoration:underline}
a.card:focus-visible{outline:2px solid var(--recs-focus-color,#1a73e8);outline-offset:2px}
.media{position:relative;display:block;aspect-ratio:var(--recs-image-ratio,1);overflow:hidden;border-radius:var(--recs-radius,8px);background:var(--recs-placeholder-bg,#f2f2f2)}
img,svg{position:absolute;inset:0;width:100%;height:100%}
img{object-fit:var(--recs-image-fit,contain)}
svg{padding:30%;color:var(--recs-placeholder-color,#8a8a8a)}
.name{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;overflow:hidden;overflow-wrap:anywhere;height:2.6em}
.price{display:block;height:1.3em;font-weight:600;color:var(--recs-price-color,inherit)}
.sk .name,.sk .price{border-radius:4px;background:var(--recs-placeholder-bg,#f2f2f2)}
.sk .price{width:40%}
.sk{animation:recs-pulse 1s ease-in-out infinite alternate}
@keyframes recs-pulse{to{opacity:.55}}
@media (prefers-reduced-motion:reduce){.sk{animation:none}}`;

  // Constructed stylesheets are not subject to a page's CSP style-src; <style> is the fallback.
  let sheet;
  function adopt(root) {
    try {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sheet];
    } catch {
      root.append(el('style', {}, CSS));
    }
  }

  // Nodes are built, never parsed from markup: no innerHTML, so pages enforcing Trusted Types work too.
  const maker =
    (namespace) =>
    (tag, attrs = {}, ...children) => {
      const node = document.createElementNS(namespace, tag);
      for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
      node.append(...children);
      return node;
    };
  const el = maker('http://www.w3.org/1999/xhtml');
  const svg = maker('http://www.w3.org/2000/svg');

  /** Only http(s) targets: a catalog URL like javascript:… must never become a link. */
  function safeUrl(value) {
    if (typeof value !== 'string' || value === '') return null;
    try {
      const url = new URL(value, document.baseURI);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch {
      return null;
    }
  }

  function localeOf(value) {
    try {
      return Intl.getCanonicalLocales(value || document.documentElement.lang || [])[0];
    } catch {
      return undefined;
    }
  }

  const formats = new Map();
  /** In the item's currency; a plain number when the currency is missing or unknown. */
  function formatPrice(value, currency, locale) {
    if (typeof value !== 'number') return '';
    const code = typeof currency === 'string' ? currency.toUpperCase() : '';
    const key = `${locale}|${code}`;
    let format = formats.get(key);
    if (!format) {
      const known = code !== '' && (!Intl.supportedValuesOf || Intl.supportedValuesOf('currency').includes(code));
      try {
        format = new Intl.NumberFormat(locale, known ? { style: 'currency', currency: code } : { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      } catch {
        format = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      }
      formats.set(key, format);
    }
    return format.format(value);
  }

  /** A random id of one page view of a block (getRandomValues works on plain http pages too, randomUUID does not). */
  function viewId() {
    return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // The last request_id per item this tab clicked through (sessionStorage), for recs.track().
  // A list, newest last: object keys would reorder numeric item ids.
  function remembered() {
    try {
      const pairs = JSON.parse(sessionStorage.getItem(MEMORY));
      return Array.isArray(pairs) ? pairs : [];
    } catch {
      return [];
    }
  }
  function remember(item, requestId) {
    const pairs = remembered()
      .filter(([i]) => i !== item)
      .concat([[item, requestId]])
      .slice(-MEMORY_SIZE);
    try {
      sessionStorage.setItem(MEMORY, JSON.stringify(pairs));
    } catch {
      /* storage off: attribution is best effort */
    }
  }

  /**
   * The event a shop's backend sends to POST /v1/events with its server-side key (a browser key
   * cannot write): the request_id is the one given, else the last one this tab clicked for the item.
   */
  function track(type, { item, request_id: requestId, user, price, quantity } = {}) {
    if (!TRACKED.includes(type) || item == null || item === '') {
      throw new TypeError(`recs.track(type, { item, … }): type is one of ${TRACKED.join(', ')} and item is required`);
    }
    const id = String(item);
    if (requestId) remember(id, String(requestId));
    const event = { type, item_id: id };
    if (user != null && user !== '') event.user_id = String(user);
    const attributed = requestId || (remembered().find(([i]) => i === id) || [])[1];
    if (attributed) event.request_id = String(attributed);
    if (price != null) event.price = Number(price);
    if (quantity != null) event.quantity = Number(quantity);
    return event;
  }
  window.recs = Object.assign(window.recs || {}, { track });

  function attributes(host) {
    const get = (name) => (host.getAttribute(name) || '').trim();
    const items = get('item')
      .split(',')
      .map((i) => i.trim())
      .filter(Boolean);
    const user = get('user');
    return {
      api: (get('api') || DEFAULT_API).replace(/\/+$/, ''),
      key: get('key'),
      strategy: get('strategy') || (items.length > 0 || user ? 'collaborative' : 'popular'),
      items,
      user,
      token: get('user-token'),
      experiment: get('experiment'),
      limit: Math.min(100, Math.max(1, Number.parseInt(get('limit'), 10) || 6)),
      category: get('category'),
      inStock: host.hasAttribute('in-stock') && get('in-stock') !== 'false',
      fallback: get('fallback') !== 'false',
      title: get('title'),
      locale: localeOf(get('locale')),
      target: get('target'),
    };
  }

  /**
   * The requests to try in order: the personal block (user set), then the non-personal one the
   * page may always read: the same strategy by the seed items, else popular.
   */
  function plan(a) {
    if (!STRATEGIES.includes(a.strategy)) throw new Error(`unknown strategy "${a.strategy}"`);
    const query = new URLSearchParams({ limit: String(a.limit), fields: FIELDS });
    if (a.category) query.set('category', a.category);
    if (a.inStock) query.set('in_stock', 'true');
    if (!a.fallback) query.set('fallback', 'false');
    const url = (path, params) => {
      const q = new URLSearchParams(params);
      for (const [name, value] of query) q.append(name, value);
      return `${a.api}/v1/recommendations${path}?${q}`;
    };
    const seeds = a.items.map((i) => ['item', i]);
    const open = { url: seeds.length > 0 && BY_ITEM.includes(a.strategy) ? url(`/${a.strategy}`, seeds) : url('/popular', []), personal: false };
    if (!a.user) return [open];
    // An experiment's exposure is the block's impression, not its fetch (which may come before it is in view).
    const own = a.experiment ? url('', [['experiment', a.experiment], ['user', a.user], ['exposure', 'impression'], ...seeds]) : url(`/${a.strategy}`, [['user', a.user], ...seeds]);
    return [{ url: own, personal: true }, open];
  }

  function skeleton(count) {
    return Array.from({ length: count }, () =>
      el(
        'li',
        { part: 'item skeleton', class: 'sk', 'aria-hidden': 'true' },
        el('span', { class: 'card' }, el('span', { class: 'media' }), el('span', { class: 'name' }), el('span', { class: 'price' })),
      ),
    );
  }

  function placeholder(media, name) {
    media.setAttribute('role', 'img');
    media.setAttribute('aria-label', name);
    media.replaceChildren(
      svg(
        'svg',
        { part: 'placeholder', viewBox: '0 0 24 24', 'aria-hidden': 'true' },
        svg('path', { fill: 'none', stroke: 'currentColor', 'stroke-width': '1.5', d: 'M3.5 4.5h17v15h-17zM3.5 16l5-5 4 4 3-3 5 5' }),
        svg('circle', { cx: '15.5', cy: '8.5', r: '1.5', fill: 'currentColor' }),
      ),
    );
  }

  // The image (or placeholder) carries the item's name, so a link reads "name, price" once.
  function card(item, position, a) {
    const href = safeUrl(item.url);
    const name = typeof item.title === 'string' && item.title !== '' ? item.title : item.id;
    const link = el(href ? 'a' : 'div', { part: 'link', class: 'card' });
    if (href) {
      link.setAttribute('href', href);
      link.dataset.position = String(position);
      if (a.target) {
        link.setAttribute('target', a.target);
        link.setAttribute('rel', 'noopener');
      }
    }
    const media = el('span', { part: 'media', class: 'media' });
    const src = safeUrl(item.image_url);
    if (src) {
      const img = el('img', { part: 'image', loading: 'lazy', decoding: 'async', alt: name, src });
      img.addEventListener('error', () => placeholder(media, name), { once: true });
      media.append(img);
    } else {
      placeholder(media, name);
    }
    link.append(media, el('span', { part: 'name', class: 'name', 'aria-hidden': 'true' }, name), el('span', { part: 'price', class: 'price' }, formatPrice(item.price, item.currency, a.locale)));
    return el('li', { part: 'item' }, link);
  }

  class RecsWidget extends HTMLElement {
    static observedAttributes = ['api', 'key', 'strategy', 'item', 'user', 'user-token', 'experiment', 'limit', 'category', 'in-stock', 'fallback', 'title', 'locale', 'layout', 'target'];

    #root;
    #section;
    #loader;
    #watcher;
    #request;
    #timer;
    #onVisibility;
    #block;
    #restarting = false;
    #warned = false;

    connectedCallback() {
      if (!this.#root) {
        this.#root = this.attachShadow({ mode: 'open' });
        adopt(this.#root);
        // title="": the host's title attribute is the block's heading, not a tooltip over it.
        this.#section = el('section', { part: 'block', title: '' });
        this.#root.append(this.#section);
        this.#root.addEventListener('click', (e) => this.#clicked(e));
        this.#root.addEventListener('auxclick', (e) => e.button === 1 && this.#clicked(e));
      }
      this.#start();
    }

    disconnectedCallback() {
      this.#stop();
    }

    attributeChangedCallback() {
      // Several attributes set in one go restart once.
      if (!this.#root || !this.isConnected || this.#restarting) return;
      this.#restarting = true;
      queueMicrotask(() => {
        this.#restarting = false;
        if (this.isConnected) this.#start();
      });
    }

    /** The skeleton reserves the block's space at once; the data is fetched when near the viewport. */
    #start() {
      this.#stop();
      const a = attributes(this);
      this.#frame(a, skeleton(a.limit), true);
      this.#loader = new IntersectionObserver(
        (entries) => {
          if (!entries.some((e) => e.isIntersecting)) return;
          this.#loader.disconnect();
          this.#load(a);
        },
        { rootMargin: '400px' },
      );
      this.#loader.observe(this);
    }

    #stop() {
      this.#loader?.disconnect();
      this.#watcher?.disconnect();
      this.#request?.abort();
      this.#request = null;
      this.#block = null;
      clearTimeout(this.#timer);
      document.removeEventListener('visibilitychange', this.#onVisibility);
    }

    #frame(a, children, busy) {
      const list = el('ul', { part: 'list', role: 'list' }, ...children);
      if (busy) list.setAttribute('aria-busy', 'true');
      this.#section.style.minHeight = '';
      if (!a.title) return this.#section.replaceChildren(list);
      list.setAttribute('aria-labelledby', 'title');
      this.#section.replaceChildren(el('h2', { part: 'title', id: 'title' }, a.title), list);
    }

    async #load(a) {
      const request = (this.#request = new AbortController());
      const timer = setTimeout(() => request.abort(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      try {
        const block = await this.#fetch(a, request.signal);
        if (this.#request === request) this.#show(a, block);
      } catch (err) {
        // Stopped or restarted meanwhile: not an error.
        if (this.#request === request) this.#fail(err);
      } finally {
        clearTimeout(timer);
      }
    }

    #headers(a, personal) {
      const headers = {};
      if (a.key) headers['x-api-key'] = a.key;
      if (personal && a.token) headers['x-user-token'] = a.token;
      return headers;
    }

    async #fetch(a, signal) {
      for (const { url, personal } of plan(a)) {
        // A refusal without CORS headers reaches a page as a bare network error. A personal block
        // changes with the visitor's last view: never from the browser's cache.
        const res = await fetch(url, { headers: this.#headers(a, personal), signal, credentials: 'omit', cache: personal ? 'no-store' : 'default' }).catch((err) => {
          throw signal.aborted ? err : new Error(`${a.api} cannot be reached or refused this page (${err.message})`);
        });
        const body = await res.json().catch(() => ({}));
        if (res.ok) {
          if (typeof body.request_id !== 'string' || !Array.isArray(body.items)) throw new Error('unexpected answer from the API');
          return { requestId: body.request_id, personal, items: body.items.filter((i) => i && typeof i.id === 'string') };
        }
        // A personal block this page may not read (no token, or an expired or wrong one): the
        // non-personal block instead.
        if (personal && /user_token/.test(body.error)) continue;
        throw new Error(`the API answered ${res.status}${body.error ? ` ${body.error}` : ''}`);
      }
    }

    #show(a, block) {
      // A page view of the block: a non-personal block may come from a cache (the browser's, a
      // CDN's) with the request_id of another view, which must still count as seen here.
      this.#block = { ...block, a, view: viewId() };
      const detail = { request_id: block.requestId, personal: block.personal, items: block.items.map((i, n) => ({ id: i.id, position: n + 1 })) };
      if (block.items.length === 0) {
        this.#fallback();
      } else {
        // Fewer items than the skeleton reserved: keep its height, so nothing below moves.
        const reserved = block.items.length < a.limit ? this.#section.offsetHeight : 0;
        this.#frame(
          a,
          block.items.map((item, n) => card(item, n + 1, a)),
          false,
        );
        if (reserved) this.#section.style.minHeight = `${reserved}px`;
        this.#watch();
      }
      this.#emit('recs-load', detail);
    }

    #fail(err) {
      this.#warn(`recs-widget: no recommendations shown: ${err.message}`);
      this.#emit('recs-error', { error: err.message });
      this.#fallback();
    }

    /** The shop's fallback content: elements with slot="fallback", or a <template slot="fallback">'s content. */
    #fallback() {
      const template = this.querySelector(':scope > template[slot=fallback]');
      if (template && !this.querySelector(':scope > [data-recs-fallback]')) {
        this.append(el('div', { slot: 'fallback', 'data-recs-fallback': '' }, template.content.cloneNode(true)));
      }
      this.#section.style.minHeight = '';
      this.#section.replaceChildren(el('slot', { name: 'fallback' }));
    }

    /** An impression: at least half the block visible, in a visible tab, for a second; once per block (request_id). */
    #watch() {
      const { requestId } = this.#block;
      let visible = false;
      const arm = () => {
        clearTimeout(this.#timer);
        if (visible && document.visibilityState === 'visible') this.#timer = setTimeout(seen, SEEN_MS);
      };
      const seen = () => {
        this.#watcher.disconnect();
        document.removeEventListener('visibilitychange', arm);
        this.#send(
          'impression',
          this.#block.items.map((item, n) => ({ item_id: item.id, position: n + 1 })),
        );
        this.#emit('recs-impression', { request_id: requestId });
      };
      this.#watcher = new IntersectionObserver(
        ([entry]) => {
          visible = entry.intersectionRatio >= 0.5;
          arm();
        },
        { threshold: [0, 0.5] },
      );
      this.#watcher.observe(this);
      this.#onVisibility = arm;
      document.addEventListener('visibilitychange', arm);
    }

    /** A followed link: the click is posted (surviving the navigation), the link is left to do its work. */
    #clicked(event) {
      const link = event.target instanceof Element && event.target.closest('a[data-position]');
      if (!link || !this.#block) return;
      const position = Number(link.dataset.position);
      const item = this.#block.items[position - 1];
      remember(item.id, this.#block.requestId);
      this.#send('click', [{ item_id: item.id, position }]);
      this.#emit('recs-click', { request_id: this.#block.requestId, item_id: item.id, position });
    }

    #send(type, items) {
      const { a, requestId, personal, view } = this.#block;
      const body = { type, request_id: requestId, view_id: view, items };
      // Only a block the API served as personal speaks for its user (with the same token).
      if (personal) body.user_id = a.user;
      fetch(`${a.api}/v1/widget/events`, {
        method: 'POST',
        keepalive: true,
        credentials: 'omit',
        headers: { ...this.#headers(a, personal), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(
        (res) => res.ok || this.#warn(`recs-widget: ${type} not recorded: the API answered ${res.status}`),
        (err) => this.#warn(`recs-widget: ${type} not recorded: ${err.message}`),
      );
    }

    #emit(name, detail) {
      this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
    }

    #warn(message) {
      if (this.#warned) return;
      this.#warned = true;
      console.warn(message);
    }
  }

  customElements.define(TAG, RecsWidget);
})();
