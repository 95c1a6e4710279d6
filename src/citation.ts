import { INotebookSummary } from './tokens';

/**
 * What a citation needs of an archived notebook: a summary, or a summary
 * with one version's `version`, `updated` and `permalink` put in.
 */
export type CitedNotebook = Pick<
  INotebookSummary,
  | 'experiment'
  | 'owner'
  | 'name'
  | 'title'
  | 'authors'
  | 'version'
  | 'updated'
  | 'permalink'
>;

/**
 * A BibTeX `@misc` entry citing exactly this version (its permalink).
 * Authors are given to BibTeX as typed ("Jane Doe" or "Doe, Jane"); every
 * field is escaped for (La)TeX, and the title is braced so styles keep its
 * capitals (experiment codes such as EG078B).
 */
export function bibtex(notebook: CitedNotebook): string {
  const year = yearOf(notebook.updated);
  const fields: [string, string][] = [
    ['author', notebook.authors.map(a => bibName(a.name)).join(' and ')],
    ['title', `{${tex(notebook.title)}}`],
    ...(year ? ([['year', year]] as [string, string][]) : []),
    ['howpublished', `\\url{${texUrl(notebook.permalink)}}`],
    [
      'note',
      `EVN experiment ${tex(notebook.experiment)}, version ${notebook.version}`
    ]
  ];
  const body = fields.map(([k, v]) => `  ${k} = {${v}}`).join(',\n');
  return `@misc{${bibKey(notebook)},\n${body}\n}\n`;
}

/**
 * One line to paste into a text: "Authors (year). Title (version N)
 * [Jupyter notebook]. EVN experiment EG078B. permalink".
 */
export function plainCitation(notebook: CitedNotebook): string {
  return [
    `${authorList(notebook.authors.map(a => oneLine(a.name)))} (${
      yearOf(notebook.updated) || 'n.d.'
    }).`,
    `${oneLine(notebook.title)} (version ${notebook.version}) [Jupyter notebook].`,
    `EVN experiment ${notebook.experiment}.`,
    notebook.permalink
  ].join(' ');
}

/** The key of the entry: unique per version, only characters every tool takes. */
function bibKey(notebook: CitedNotebook): string {
  const parts = [notebook.experiment, notebook.owner, notebook.name];
  const key = `${parts.join('_')}_v${notebook.version}`;
  return key.replace(/[^A-Za-z0-9_.:-]/g, '-');
}

/** A name for BibTeX's `author`: escaped, with a literal "and" kept from splitting it. */
function bibName(name: string): string {
  return tex(name).replace(/(^|\s)(and)(?=\s|$)/gi, '$1{$2}');
}

/** `text` on one line with TeX's special characters escaped. */
function tex(text: string): string {
  return oneLine(text).replace(/[\\{}&%$#_~^]/g, c => TEX_ESCAPES[c]);
}

const TEX_ESCAPES: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}'
};

/**
 * A URL inside `\url{}` in another command's argument: whitespace, `\`
 * and braces (which a URL should not hold raw) percent-encoded, then `%` and
 * `#` escaped, as hyperref's `\url` reads them there.
 */
function texUrl(url: string): string {
  return url
    .replace(/[\s\\{}]/g, c => encodeURIComponent(c))
    .replace(/[%#]/g, c => `\\${c}`);
}

function yearOf(date: string): string {
  return /^\d{4}/.exec(date)?.[0] ?? '';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** "A", "A & B", "A, B & C"; names written "Family, Given" are separated by ";". */
function authorList(names: string[]): string {
  if (names.some(n => n.includes(','))) {
    return names.join('; ');
  }
  return names.length < 2
    ? names.join('')
    : `${names.slice(0, -1).join(', ')} & ${names[names.length - 1]}`;
}
