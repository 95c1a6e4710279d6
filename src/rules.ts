import { SCHEMAS } from './contract';

/**
 * The archive contract's rules that a JSON schema cannot say, in TypeScript:
 * the twin of contract/rules.py, reading the same patterns and limits (from
 * src/contract.ts, generated from contract/openapi.json). Both run the table
 * contract/cases.json in their tests, so the two cannot drift apart.
 */

/** An input that breaks a rule; the message says what to do instead. */
export class RuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleError';
  }
}

const METADATA = SCHEMAS.Metadata.properties;

/** The SPDX licence ids an archived notebook may carry. */
export const LICENSES: ReadonlyArray<string> = METADATA.license.enum;
/** The licence proposed to a new submission. */
export const DEFAULT_LICENSE: string = METADATA.license.default;

/** The whole string must match (the contract's patterns are anchored). */
function whole(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** Length in code points, as the service counts it. */
function length(text: string): number {
  return [...text].length;
}

function matches(
  value: string,
  schema: { pattern: string; minLength?: number; maxLength?: number }
): boolean {
  const n = length(value);
  if (n < (schema.minLength ?? 0) || n > (schema.maxLength ?? n)) {
    return false;
  }
  return whole(schema.pattern).test(value);
}

function quote(text: string): string {
  return `'${text}'`;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 127) {
      return false;
    }
  }
  return true;
}

/**
 * Upper-case ASCII letters only: `toUpperCase` would make 'SS' of U+00DF
 * and 'S' of U+017F, turning a wrong code into someone else's.
 */
export function asciiUpper(text: string): string {
  return text.replace(/[a-z]/g, c => String.fromCharCode(c.charCodeAt(0) - 32));
}

/** The canonical (upper-case) experiment code, or a `RuleError`. */
export function experimentCode(raw: unknown): string {
  if (typeof raw !== 'string') {
    throw new RuleError('the experiment code must be a string such as EG078B');
  }
  const code = asciiUpper(raw.trim());
  const schema = SCHEMAS.ExperimentCode;
  const ok = isAscii(code) && length(code) <= schema.maxLength;
  if (!code || !ok || !whole(schema.pattern).test(code)) {
    throw new RuleError(
      `${quote(raw.slice(0, 40))} is not an EVN experiment code (expected ` +
        `something like EG078B, matching ${schema.pattern})`
    );
  }
  return code;
}

function codePoint(ch: string): string {
  const hex = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase();
  return 'U+' + hex.padStart(4, '0');
}

function describeBadChars(name: string): string | null {
  for (const ch of name) {
    if (/\p{C}/u.test(ch)) {
      return `a control or invisible character (${codePoint(ch)})`;
    }
    if (ch === '/' || ch === '\\') {
      return 'a slash (a name is one folder, not a path)';
    }
    if (!isAscii(ch)) {
      return `the non-ASCII character ${quote(ch)} (${codePoint(ch)})`;
    }
    if (/\s/.test(ch)) {
      return 'a space';
    }
  }
  return null;
}

/** What a notebook name may look like, for messages. */
export function nameRule(): string {
  return (
    "use letters, digits, '.', '_' and '-', starting with a letter or digit, " +
    `at most ${SCHEMAS.NotebookName.maxLength} characters`
  );
}

export function isReserved(name: string): boolean {
  const schema = SCHEMAS.NotebookName;
  const reserved: ReadonlyArray<string> = schema['x-reserved'];
  const suffixes: ReadonlyArray<string> = schema['x-reserved-suffixes'];
  const low = name.toLowerCase();
  return (
    reserved.includes(low.split('.')[0]) ||
    suffixes.some(suffix => low.endsWith(suffix))
  );
}

/** A notebook's folder name (`.ipynb` dropped), or a `RuleError`. */
export function notebookName(raw: unknown): string {
  if (typeof raw !== 'string') {
    throw new RuleError(
      "the notebook name must be a string such as 'calibration.ipynb'"
    );
  }
  const name = raw.toLowerCase().endsWith('.ipynb') ? raw.slice(0, -6) : raw;
  const rule = nameRule();
  if (!name) {
    throw new RuleError(`the notebook name is empty; ${rule}`);
  }
  const bad = describeBadChars(name);
  if (bad) {
    throw new RuleError(`the notebook name contains ${bad}; ${rule}`);
  }
  if (name.includes('..')) {
    throw new RuleError(`the notebook name must not contain '..'; ${rule}`);
  }
  if (length(name) > SCHEMAS.NotebookName.maxLength) {
    throw new RuleError(
      `the notebook name is ${length(name)} characters long; ${rule}`
    );
  }
  if (!matches(name, SCHEMAS.NotebookName)) {
    throw new RuleError(
      `the notebook name ${quote(name)} is not allowed; ${rule}`
    );
  }
  if (isReserved(name)) {
    throw new RuleError(
      `${quote(name)} is a reserved name; choose another notebook name`
    );
  }
  return name;
}

/** An idempotency key as the service accepts it, or a `RuleError`. */
export function idempotencyKey(raw: unknown): string {
  const schema = SCHEMAS.IdempotencyKey;
  if (typeof raw !== 'string' || !matches(raw, schema)) {
    throw new RuleError(
      `the idempotency key must be ${schema.minLength}-${schema.maxLength} ` +
        'printable ASCII characters without spaces (a UUID will do)'
    );
  }
  return raw;
}

/** The ORCID check digit (ISO 7064 11-2) of the first 15 digits. */
function orcidCheckDigit(digits: string): string {
  let total = 0;
  for (const d of digits) {
    total = (total + Number(d)) * 2;
  }
  const check = (12 - (total % 11)) % 11;
  return check === 10 ? 'X' : String(check);
}

/** `0000-0002-1825-0097` or its URL, checked, as the https URL. */
export function orcidUrl(raw: string): string {
  const text = raw.trim();
  if (!matches(text, SCHEMAS.Orcid)) {
    throw new RuleError(
      `${quote(raw)} is not an ORCID iD (expected 0000-0002-1825-0097 or its URL)`
    );
  }
  const ident = text.slice(-19);
  const digits = ident.replace(/-/g, '');
  if (digits.slice(-1) !== orcidCheckDigit(digits.slice(0, -1))) {
    throw new RuleError(
      `${quote(raw)} is not a valid ORCID iD (its check digit is wrong)`
    );
  }
  return 'https://orcid.org/' + ident;
}
