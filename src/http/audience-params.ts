// An audience as the API takes it: the same parameter names in the query of GET /v1/audiences
// and in an experiment's `audience`, segments by slug. Defaults are filled here, not by the
// schemas, so a parameter of another audience is a 400 naming it rather than ignored.
import { AUDIENCE_DEFAULTS, AUDIENCE_NAMES, type Audience, type AudienceName } from '../lifecycle/audiences.ts';
import { SEGMENT_SLUGS, segmentOfSlug, segmentSlug } from '../lifecycle/segments.ts';
import { HttpError } from './errors.ts';

export const AUDIENCE_PARAMS = {
  within_days: {
    type: 'integer',
    minimum: 0,
    maximum: 3650,
    description: `replenishment-due: items due within this many days of the build's reference day, overdue ones included (default ${AUDIENCE_DEFAULTS.within_days})`,
  },
  max_p_alive: { type: 'number', minimum: 0, maximum: 1, description: `reactivation: P(alive) below this (default ${AUDIENCE_DEFAULTS.max_p_alive})` },
  gap_multiple: {
    type: 'number',
    exclusiveMinimum: 0,
    maximum: 1000,
    description: `reactivation: or silent for longer than this × the customer's own mean days between orders (default ${AUDIENCE_DEFAULTS.gap_multiple})`,
  },
  min_revenue: { type: 'number', minimum: 0, description: `reactivation: only customers whose revenue so far is at least this (default ${AUDIENCE_DEFAULTS.min_revenue})` },
  min: { type: 'number', minimum: 0, maximum: 1, description: `churn-risk: churn risk, 1 − P(alive), at least this (default ${AUDIENCE_DEFAULTS.min})` },
} as const;
type Param = keyof typeof AUDIENCE_PARAMS;

const PARAMS_OF: Record<AudienceName, readonly Param[]> = {
  'replenishment-due': ['within_days'],
  reactivation: ['max_p_alive', 'gap_multiple', 'min_revenue'],
  'churn-risk': ['min'],
  segment: [],
};

export type AudienceInput = Partial<Record<Param, number>> & { segments?: string[] };

/** JSON schema of an experiment's audience. */
export const audienceSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['name'],
  description: 'Only these users enter the experiment (docs/lifecycle.md); the others get the control and no exposure. Null: everyone',
  properties: {
    name: { type: 'string', enum: AUDIENCE_NAMES },
    segments: { type: 'array', items: { type: 'string', enum: SEGMENT_SLUGS }, minItems: 1, uniqueItems: true, description: 'segment: the segments (slugs, as GET /v1/segments lists them)' },
    ...AUDIENCE_PARAMS,
  },
} as const;

/** The audience `name` with the parameters given; 400 naming `prefix` + the field for one that does not belong to it. */
export function audienceFrom(name: AudienceName, input: AudienceInput, prefix = ''): Audience {
  for (const param of Object.keys(AUDIENCE_PARAMS) as Param[]) {
    if (input[param] !== undefined && !PARAMS_OF[name].includes(param)) {
      throw new HttpError(400, 'invalid_request', `${param} is not a parameter of the ${name} audience`, `${prefix}${param}`);
    }
  }
  if (input.segments !== undefined && name !== 'segment') throw new HttpError(400, 'invalid_request', `segments is not a parameter of the ${name} audience`, `${prefix}segments`);
  const value = (param: Param) => input[param] ?? AUDIENCE_DEFAULTS[param];
  switch (name) {
    case 'segment': {
      if (!input.segments) throw new HttpError(400, 'invalid_request', 'the segment audience needs segments', `${prefix}segments`);
      return { name, segments: input.segments.map((slug) => segmentOfSlug(slug)!) };
    }
    case 'replenishment-due':
      return { name, within_days: value('within_days') };
    case 'churn-risk':
      return { name, min: value('min') };
    case 'reactivation':
      return { name, max_p_alive: value('max_p_alive'), gap_multiple: value('gap_multiple'), min_revenue: value('min_revenue') };
  }
}

/** An audience as the API shows it: segments by slug. */
export function audienceJson(a: Audience): Record<string, unknown> {
  return a.name === 'segment' ? { name: a.name, segments: a.segments.map(segmentSlug) } : { ...a };
}
