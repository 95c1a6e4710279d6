import { nullTranslator } from '@jupyterlab/translation';
import { SCHEMAS } from '../contract';
import {
  asciiUpper,
  DEFAULT_LICENSE,
  experimentCode,
  idempotencyKey,
  LICENSES,
  notebookName,
  orcidUrl,
  RuleError
} from '../rules';
import { submissionSchema } from '../schema';

declare const require: {
  (path: string): any;
  resolve(path: string): string;
};
const openapi = require('../../contract/openapi.json');
const cases = require('../../contract/cases.json');
const { execFileSync } = require('child_process');

const { dirname } = require('path');

const ROOT = dirname(require.resolve('../../package.json'));
const contractSchemas = openapi.components.schemas;

describe('src/contract.ts', () => {
  it('holds the schemas of contract/openapi.json verbatim', () => {
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      expect([name, schema]).toEqual([name, contractSchemas[name]]);
    }
  });

  it('is what scripts/contract-ts.mjs generates now', () => {
    // exits 1 (and execFileSync throws) when the file is stale
    execFileSync('node', ['scripts/contract-ts.mjs', '--check'], {
      cwd: ROOT,
      stdio: 'pipe'
    });
  });
});

type Rule = (input: any) => string;
const RULES: Record<string, Rule> = {
  experiment_code: experimentCode,
  notebook_name: notebookName,
  idempotency_key: idempotencyKey,
  orcid: orcidUrl
};

type Row = { input: string; ok?: string; error?: string };
const ROWS: [string, string, Row][] = [];
for (const rule of Object.keys(RULES)) {
  for (const row of cases[rule] as Row[]) {
    ROWS.push([rule, JSON.stringify(row.input), row]);
  }
}

describe('contract/cases.json through src/rules.ts', () => {
  it('runs every rule of the table', () => {
    const tabled = Object.keys(cases).filter(k => k !== 'description');
    expect(tabled.sort()).toEqual(Object.keys(RULES).sort());
  });

  it.each(ROWS)('%s %s', (rule, _input, row) => {
    const apply = () => RULES[rule](row.input);
    if ('ok' in row) {
      expect(apply()).toBe(row.ok);
    } else {
      expect(apply).toThrow(RuleError);
      expect(apply).toThrow(row.error);
    }
  });

  it('upper-cases ASCII letters only', () => {
    expect(asciiUpper('eg078b')).toBe('EG078B');
    // toUpperCase would make 'SS' and 'S' of these, a code that exists
    expect(asciiUpper('eg078\u00df')).toBe('EG078\u00df');
    expect(asciiUpper('\u017fg078b')).toBe('\u017fG078B');
  });
});

describe('the submit form follows the contract', () => {
  const form = submissionSchema(nullTranslator.load('jupyterlab_evn_submit'))
    .properties as any;
  const metadata = contractSchemas.Metadata.properties;
  const author = contractSchemas.Author.properties;

  it('offers exactly the licences of the contract, proposing its default', () => {
    expect(form.license.enum).toEqual(metadata.license.enum);
    expect(LICENSES).toHaveLength(19);
    expect(DEFAULT_LICENSE).toBe(metadata.license.default);
  });

  it('limits the title, description, keywords and message as the contract does', () => {
    for (const key of ['title', 'description']) {
      expect([key, form[key].minLength, form[key].maxLength]).toEqual([
        key,
        metadata[key].minLength,
        metadata[key].maxLength
      ]);
    }
    expect(form.keywords.maxItems).toBe(metadata.keywords.maxItems);
    expect(form.keywords.items).toEqual({
      type: 'string',
      ...metadata.keywords.items
    });
    expect(form.message.maxLength).toBe(
      contractSchemas.Submission.properties.message.maxLength
    );
  });

  it('limits the authors as the contract does', () => {
    expect(form.authors.minItems).toBe(metadata.authors.minItems);
    expect(form.authors.maxItems).toBe(metadata.authors.maxItems);
    const item = form.authors.items;
    expect(item.required).toEqual(contractSchemas.Author.required);
    expect(item.properties.name.minLength).toBe(author.name.minLength);
    expect(item.properties.name.maxLength).toBe(author.name.maxLength);
    expect(item.properties.affiliation.maxLength).toBe(
      author.affiliation.maxLength
    );
  });
});
