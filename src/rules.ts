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

/**
 * The canonical (upper-case) experiment code, or a `RuleError` saying what is
 * wrong. Nothing is trimmed: a space or a line break anywhere is refused (the
 * form trims what a person typed before calling this). The text is checked to
 * be ASCII before it is upper-cased, in ASCII only, and matched whole.
 */
export function experimentCode(raw: unknown): string {
  if (typeof raw !== 'string') {
    throw new RuleError('the experiment code must be a string such as EG078B');
  }
  const schema = SCHEMAS.ExperimentCode;
  const most = schema.maxLength;
  let problem: string | null = null;
  const bad = describeBadChars(raw, null);
  if (!raw) {
    problem = 'it is empty';
  } else if (bad) {
    problem = `it contains ${bad}`;
  } else if (raw.length > most) {
    problem = `it is ${raw.length} characters long (at most ${most})`;
  } else if (!whole(schema.pattern).test(asciiUpper(raw))) {
    problem = '';
  }
  if (problem !== null) {
    const detail = problem ? `: ${problem}` : '';
    throw new RuleError(
      `${quote(raw.slice(0, 40))} is not an EVN experiment code${detail} ` +
        `(expected something like EG078B, matching ${schema.pattern})`
    );
  }
  return asciiUpper(raw);
}

function codePoint(ch: string): string {
  const hex = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase();
  return 'U+' + hex.padStart(4, '0');
}

/**
 * The first character that is not printable ASCII (or a slash, when `slash`
 * says why), or null.
 */
function describeBadChars(text: string, slash: string | null): string | null {
  for (const ch of text) {
    if (/\p{C}/u.test(ch)) {
      return `a control or invisible character (${codePoint(ch)})`;
    }
    if (slash && (ch === '/' || ch === '\\')) {
      return slash;
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
    "use letters, digits, '.', '_' and '-', starting with a letter or digit " +
    "and not ending in '.', " +
    `at most ${SCHEMAS.NotebookName.maxLength} characters`
  );
}

/**
 * A reserved name (compared in lower case up to the first '.'), or a
 * reserved suffix.
 */
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
  const problem = nameProblem(name);
  if (problem) {
    throw new RuleError(`the notebook name ${problem}; ${nameRule()}`);
  }
  if (!matches(name, SCHEMAS.NotebookName)) {
    // the document's pattern: a backstop
    throw new RuleError(
      `the notebook name ${quote(name)} is not allowed; ${nameRule()}`
    );
  }
  if (isReserved(name)) {
    throw new RuleError(
      `${quote(name)} is a reserved name; choose another notebook name`
    );
  }
  return name;
}

/** What is wrong with `name`, said specifically, or null. */
function nameProblem(name: string): string | null {
  if (!name) {
    return 'is empty';
  }
  const bad = describeBadChars(
    name,
    'a slash (a name is one folder, not a path)'
  );
  if (bad) {
    return `contains ${bad}`;
  }
  const other = [...name].find(ch => !/[A-Za-z0-9._-]/.test(ch));
  if (other) {
    return `contains the character ${quote(other)}`;
  }
  if (name.includes('..')) {
    return "must not contain '..'";
  }
  if (name.length > SCHEMAS.NotebookName.maxLength) {
    return `is ${name.length} characters long`;
  }
  if (!/^[A-Za-z0-9]/.test(name)) {
    return `${quote(name.slice(0, 40))} is not allowed: it must start with a letter or digit`;
  }
  if (name.endsWith('.')) {
    return `${quote(name.slice(0, 40))} is not allowed: it must not end in '.'`;
  }
  return null;
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
