// The one rule for ids (users, items, categories, mails) wherever they come in, API or import:
// 1 to 256 characters of any Unicode (emoji, right-to-left scripts...) except control characters
// and lone surrogates. NUL cannot be stored in PostgreSQL text; the other controls are
// corruption that breaks logs and exports; a lone surrogate is not UTF-8 and would be stored as
// U+FFFD, another id than the one sent.
export const MAX_ID_LENGTH = 256;
export const FORBIDDEN_IN_ID = /[\p{Cc}\p{Cs}]/u;

/** JSON schema of an id; Ajv compiles patterns with the u flag, so \p{...} classes work. */
export const idSchema = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: '^[^\\p{Cc}\\p{Cs}]*$' } as const;

/** Pattern of free text (names, salts): anything PostgreSQL text and jsonb can hold, so no NUL, no lone surrogate. */
export const TEXT_PATTERN = '^[^\\u0000\\p{Cs}]*$';
