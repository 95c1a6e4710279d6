import { nullTranslator } from '@jupyterlab/translation';
import { submissionSchema } from '../schema';
import { validate } from '../validator';

declare const require: (path: string) => any;
const settings = require('../../schema/plugin.json');
const openapi = require('../../contract/openapi.json');
const contract = openapi.components.schemas;
const schema = submissionSchema(nullTranslator.load('jupyterlab_evn_submit'));

const valid = {
  experiment: 'EG078B',
  title: 'Calibration of EG078B',
  authors: [{ name: 'Demo Researcher', orcid: '0000-0002-1825-0097' }],
  license: 'CC-BY-4.0',
  output_policy: 'strip-large',
  output_budget_mb: 5
};

describe('the submission schema and its validator', () => {
  it('accepts a complete form', () => {
    expect(validate(schema, valid)).toEqual([]);
  });

  it('names each wrong field', () => {
    const errors = validate(schema, {
      ...valid,
      experiment: 'not a code',
      title: '',
      authors: [{ name: 'A', orcid: '0000-0002-1825' }],
      license: 'WTFPL',
      output_policy: 'shred',
      output_budget_mb: -1
    });
    expect(errors.map(e => `${e.property} ${e.name}`).sort()).toEqual([
      '.authors.0.orcid format',
      '.experiment format',
      '.license enum',
      '.output_budget_mb minimum',
      '.output_policy oneOf',
      '.title required'
    ]);
  });

  it('takes an experiment code in lower case, but not one toUpperCase would make', () => {
    expect(validate(schema, { ...valid, experiment: ' eg078b ' })).toEqual([]);
    const errors = validate(schema, { ...valid, experiment: 'eg078\u00df' });
    expect(errors.map(e => [e.property, e.name])).toEqual([
      ['.experiment', 'format']
    ]);
    expect(errors[0].message).toContain('not an EVN experiment code');
  });

  it("checks the ORCID iD's check digit and takes its URL", () => {
    const orcid = (value: string) =>
      validate(schema, { ...valid, authors: [{ name: 'A', orcid: value }] });
    expect(orcid('https://orcid.org/0000-0002-1825-0097')).toEqual([]);
    expect(orcid('0000-0002-1825-0098').map(e => e.message)).toEqual([
      "'0000-0002-1825-0098' is not a valid ORCID iD (its check digit is wrong)"
    ]);
  });

  it("refuses what is longer than the contract's limits", () => {
    const long = (n: number) => 'x'.repeat(n + 1);
    const title = contract.Metadata.properties.title.maxLength;
    const name = contract.Author.properties.name.maxLength;
    const errors = validate(schema, {
      ...valid,
      title: long(title),
      authors: [{ name: long(name) }]
    });
    expect(errors.map(e => `${e.property} ${e.name}`).sort()).toEqual([
      '.authors.0.name maxLength',
      '.title maxLength'
    ]);
  });

  it('needs at least one author', () => {
    const errors = validate(schema, { ...valid, authors: [] });
    expect(errors.map(e => e.property)).toEqual(['.authors']);
  });
});

describe('the settings schema', () => {
  it('gives every setting a title, a description and a default', () => {
    expect(settings.additionalProperties).toBe(false);
    for (const [name, property] of Object.entries<any>(settings.properties)) {
      expect([name, typeof property.title]).toEqual([name, 'string']);
      expect([name, typeof property.description]).toEqual([name, 'string']);
      expect([name, 'default' in property]).toEqual([name, true]);
    }
  });

  it("offers the contract's licences and proposes its default", () => {
    const license = contract.Metadata.properties.license;
    expect(settings.properties.defaultLicense.enum).toEqual(license.enum);
    expect(settings.properties.defaultLicense.default).toBe(license.default);
  });

  it("takes an ORCID iD as the contract's pattern does, or nothing", () => {
    const inner = contract.Orcid.pattern.replace(/^\^/, '').replace(/\$$/, '');
    const optional = `^(${inner})?$`;
    expect(settings.properties.orcid.pattern).toBe(optional);
    expect(
      settings.properties.defaultAuthors.items.properties.orcid.pattern
    ).toBe(optional);
  });

  it('declares the notebook toolbar button and the menus', () => {
    expect(settings['jupyter.lab.toolbars'].Notebook).toEqual([
      expect.objectContaining({ command: 'evn-submit:submit' })
    ]);
    const file = settings['jupyter.lab.menus'].main.find(
      (m: any) => m.id === 'jp-mainmenu-file'
    );
    expect(file.items.map((i: any) => i.command).filter(Boolean)).toEqual([
      'evn-submit:submit',
      'evn-submit:browse'
    ]);
    expect(settings['jupyter.lab.menus'].context[0]).toEqual(
      expect.objectContaining({
        command: 'evn-submit:submit-file',
        selector: '.jp-DirListing-item[data-file-type="notebook"]'
      })
    );
  });
});
