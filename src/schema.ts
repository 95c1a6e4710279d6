import { TranslationBundle } from '@jupyterlab/translation';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';

/**
 * The one JSON schema of the submission metadata: the submit form is
 * generated from it, and the form is validated against it before upload.
 */

/** SPDX identifiers offered for an archived notebook. */
export const LICENSES: ReadonlyArray<string> = [
  'CC-BY-4.0',
  'CC-BY-SA-4.0',
  'CC0-1.0',
  'MIT',
  'BSD-3-Clause',
  'Apache-2.0',
  'GPL-3.0-or-later'
];

/** An EVN experiment code such as EG078B or N24L1. */
export const EXPERIMENT_PATTERN = '^[A-Za-z]{1,3}[0-9]{2,4}[A-Za-z0-9]{0,4}$';
/** An ORCID iD: four groups of four digits, the last may end in X. */
export const ORCID_PATTERN = '^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]$';

export function submissionSchema(trans: TranslationBundle): RJSFSchema {
  return {
    type: 'object',
    required: ['experiment', 'title', 'authors', 'license', 'output_policy'],
    properties: {
      experiment: {
        type: 'string',
        title: trans.__('Experiment code'),
        description: trans.__(
          'The EVN experiment this notebook reduces, e.g. EG078B.'
        ),
        pattern: EXPERIMENT_PATTERN
      },
      title: {
        type: 'string',
        title: trans.__('Title'),
        minLength: 3,
        maxLength: 200
      },
      description: {
        type: 'string',
        title: trans.__('Description')
      },
      authors: {
        type: 'array',
        title: trans.__('Authors'),
        minItems: 1,
        items: {
          type: 'object',
          title: trans.__('Author'),
          required: ['name'],
          properties: {
            name: { type: 'string', title: trans.__('Name'), minLength: 1 },
            orcid: {
              type: 'string',
              title: trans.__('ORCID'),
              pattern: ORCID_PATTERN
            },
            affiliation: { type: 'string', title: trans.__('Affiliation') }
          }
        }
      },
      license: {
        type: 'string',
        title: trans.__('License'),
        enum: [...LICENSES]
      },
      keywords: {
        type: 'array',
        title: trans.__('Keywords'),
        items: { type: 'string', minLength: 1 }
      },
      output_policy: {
        type: 'string',
        title: trans.__('Cell outputs'),
        oneOf: [
          { const: 'keep', title: trans.__('Keep all outputs') },
          { const: 'strip', title: trans.__('Strip all outputs') },
          { const: 'strip-large', title: trans.__('Strip large outputs') }
        ]
      },
      output_budget_mb: {
        type: 'number',
        title: trans.__('Output size budget (MB)'),
        description: trans.__(
          'With "strip large outputs", outputs over this size are removed.'
        ),
        minimum: 0
      },
      message: {
        type: 'string',
        title: trans.__('Message'),
        description: trans.__(
          'What changed in this version (the commit message).'
        )
      }
    }
  };
}

export function submissionUiSchema(trans: TranslationBundle): UiSchema {
  return {
    'ui:order': [
      'experiment',
      'title',
      'description',
      'authors',
      'license',
      'keywords',
      'output_policy',
      'output_budget_mb',
      'message'
    ],
    'ui:submitButtonOptions': { norender: true },
    experiment: { 'ui:placeholder': 'EG078B' },
    description: { 'ui:widget': 'textarea', 'ui:options': { rows: 3 } },
    message: { 'ui:widget': 'textarea', 'ui:options': { rows: 2 } },
    authors: { items: { orcid: { 'ui:placeholder': '0000-0002-1825-0097' } } }
  };
}
