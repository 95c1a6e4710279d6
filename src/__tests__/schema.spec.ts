import { nullTranslator } from '@jupyterlab/translation';
import { LICENSES, submissionSchema } from '../schema';
import { validate } from '../validator';

declare const require: (path: string) => any;
const settings = require('../../schema/plugin.json');
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
      '.authors.0.orcid pattern',
      '.experiment pattern',
      '.license enum',
      '.output_budget_mb minimum',
      '.output_policy oneOf',
      '.title required'
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

  it('offers the licenses of the form', () => {
    expect(settings.properties.defaultLicense.enum).toEqual([...LICENSES]);
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
