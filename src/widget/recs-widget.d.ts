// Types of the website widget (recs-widget.js, docs/widget.md) for pages written in TypeScript.

/** What recs.track() returns: the event for the shop's backend to send to POST /v1/events. */
interface RecsTrackedEvent {
  type: 'view' | 'cart' | 'purchase' | 'click';
  item_id: string;
  user_id?: string;
  request_id?: string;
  price?: number;
  quantity?: number;
}

interface RecsWidgetEventMap {
  'recs-load': CustomEvent<{ request_id: string; personal: boolean; items: { id: string; position: number }[] }>;
  'recs-impression': CustomEvent<{ request_id: string }>;
  'recs-click': CustomEvent<{ request_id: string; item_id: string; position: number }>;
  'recs-error': CustomEvent<{ error: string }>;
}

interface HTMLElementTagNameMap {
  'recs-widget': HTMLElement;
}

interface DocumentEventMap extends RecsWidgetEventMap {}

interface Window {
  recs: {
    /** The request_id is the one given, else the last one this tab clicked through for the item. */
    track(type: RecsTrackedEvent['type'], event: { item: string; request_id?: string; user?: string; price?: number; quantity?: number }): RecsTrackedEvent;
  };
}
