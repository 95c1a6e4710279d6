import { SCHEMAS } from './contract';
import { experimentCode, RuleError } from './rules';
import { IPrefill } from './tokens';

/**
 * What the submit form can take from the notebook itself, so the researcher
 * types less: the experiment code and the title. Pure functions; the model
 * reads the notebook and applies the result to fields left blank.
 */

/**
 * The notebook metadata key read for the experiment code:
 * `metadata.evn.experiment` (e.g. `{"evn": {"experiment": "EG078B"}}`).
 */
export const METADATA_KEY = 'evn';

/** As much of a notebook (nbformat 4) as the guesses read. */
export interface INotebookLike {
  metadata?: { [key: string]: unknown };
  cells?: ReadonlyArray<{ cell_type: string; source: string | string[] }>;
}

/**
 * `raw` as a canonical experiment code, or '' when it is not one. A string is
 * trimmed first: a person typed it into the notebook's metadata.
 */
function codeOrEmpty(raw: unknown): string {
  try {
    return experimentCode(typeof raw === 'string' ? raw.trim() : raw);
  } catch (error) {
    if (error instanceof RuleError) {
      return '';
    }
    throw error;
  }
}

/** The experiment code in `metadata.evn.experiment`, checked, else ''. */
export function experimentFromMetadata(
  metadata: INotebookLike['metadata']
): string {
  const evn = metadata?.[METADATA_KEY];
  if (!evn || typeof evn !== 'object') {
    return '';
  }
  return codeOrEmpty((evn as { experiment?: unknown }).experiment);
}

/**
 * A leading experiment code in the file name, checked by the contract's rule:
 * `EG078B-calibration.ipynb`, `eg078b_flagging.ipynb`, `EG078B.ipynb`.
 */
export function experimentFromFileName(path: string): string {
  const base = path.split('/').pop() ?? '';
  const stem = base.replace(/\.ipynb$/i, '');
  const lead = /^[A-Za-z0-9]+/.exec(stem);
  return lead ? codeOrEmpty(lead[0]) : '';
}

/** Markdown inline markup dropped from a heading: links, emphasis, code. */
function plainText(markdown: string): string {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__|\*|_|`)(.+?)\1/g, '$2')
    .replace(/<[^>]*>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first heading (`# Title` or a `===`/`---` underlined line), else ''. */
function firstHeading(markdown: string): string {
  const lines = markdown.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const atx = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(lines[i]);
    if (atx && plainText(atx[1])) {
      return plainText(atx[1]);
    }
    const next = lines[i + 1] ?? '';
    if (lines[i].trim() && /^ {0,3}(=+|-+)[ \t]*$/.test(next)) {
      return plainText(lines[i]);
    }
  }
  return '';
}

/** The notebook's first markdown heading, cut to the contract's limit. */
export function titleFromCells(cells: INotebookLike['cells']): string {
  for (const cell of cells ?? []) {
    if (cell.cell_type !== 'markdown') {
      continue;
    }
    const source = Array.isArray(cell.source)
      ? cell.source.join('')
      : cell.source;
    const heading = firstHeading(source ?? '');
    if (heading) {
      const max = SCHEMAS.Metadata.properties.title.maxLength;
      return [...heading].slice(0, max).join('');
    }
  }
  return '';
}

/**
 * The guesses for the notebook at `path`: the experiment from its metadata,
 * else from its file name; the title from its first markdown heading.
 */
export function prefillFor(
  path: string,
  notebook: INotebookLike | null
): IPrefill {
  return {
    experiment:
      experimentFromMetadata(notebook?.metadata) ||
      experimentFromFileName(path),
    title: titleFromCells(notebook?.cells)
  };
}
