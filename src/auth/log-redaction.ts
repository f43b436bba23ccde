// Credentials that can appear in a logged URL or message (Fastify logs every request's URL with
// its query string, and quotes it in "Route … not found"): user tokens, signed-URL signatures,
// and an API key pasted where it does not belong. Masked, so a log line is safe to share.
const SECRET_PARAMS = /([?&](?:user_token|token|sig|signature|api_key|key)=)[^&#\s"]*/gi;
const API_KEY_SECRET = /\b(recs_[0-9a-f]{12})_[A-Za-z0-9_-]{43}/g;

export function redactSecrets(text: string): string {
  return text.replace(SECRET_PARAMS, '$1[redacted]').replace(API_KEY_SECRET, '$1_[redacted]');
}
