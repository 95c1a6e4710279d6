import { TranslationBundle } from '@jupyterlab/translation';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import { SCHEMAS } from './contract';
import { experimentCode, LICENSES, orcidUrl } from './rules';

/**
 * The one JSON schema of the submission metadata: the submit form is
 * generated from it, and the form is validated against it before upload.
 * Every limit, the licence list and the two rule formats come from the
 * archive's contract (contract/openapi.json, via src/contract.ts).
 */

const METADATA = SCHEMAS.Metadata.properties;
const AUTHOR = SCHEMAS.Author.properties;

/**
 * The string formats of the form, each checked by the contract's rule
 * (src/rules.ts): an experiment code may be typed in lower case and with
 * spaces around it (trimmed here, as the model trims it before sending: the
 * rule itself trims nothing), an ORCID iD must have the right check digit.
 */
export const FORMATS: Readonly<Record<string, (value: string) => unknown>> = {
  'evn-experiment-code': (value: string) => experimentCode(value.trim()),
  orcid: orcidUrl
};

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
        format: 'evn-experiment-code'
      },
      title: {
        type: 'string',
        title: trans.__('Title'),
        minLength: METADATA.title.minLength,
        maxLength: METADATA.title.maxLength
      },
      description: {
        type: 'string',
        title: trans.__('Description'),
        maxLength: METADATA.description.maxLength
      },
      authors: authorsSchema(trans),
      license: {
        type: 'string',
        title: trans.__('License'),
        enum: [...LICENSES]
      },
      keywords: {
        type: 'array',
        title: trans.__('Keywords'),
        maxItems: METADATA.keywords.maxItems,
        items: {
          type: 'string',
          minLength: METADATA.keywords.items.minLength,
          maxLength: METADATA.keywords.items.maxLength
        }
      },
      ...outputSchema(trans),
      message: {
        type: 'string',
        title: trans.__('Message'),
        description: trans.__(
          'What changed in this version (the commit message).'
        ),
        maxLength: SCHEMAS.Submission.properties.message.maxLength
      }
    }
  };
}

function authorsSchema(trans: TranslationBundle): RJSFSchema {
  return {
    type: 'array',
    title: trans.__('Authors'),
    minItems: METADATA.authors.minItems,
    maxItems: METADATA.authors.maxItems,
    items: {
      type: 'object',
      title: trans.__('Author'),
      required: [...SCHEMAS.Author.required],
      properties: {
        name: {
          type: 'string',
          title: trans.__('Name'),
          minLength: AUTHOR.name.minLength,
          maxLength: AUTHOR.name.maxLength
        },
        orcid: {
          type: 'string',
          title: trans.__('ORCID'),
          format: 'orcid'
        },
        affiliation: {
          type: 'string',
          title: trans.__('Affiliation'),
          maxLength: AUTHOR.affiliation.maxLength
        }
      }
    }
  };
}

/** What happens to cell outputs: the extension's own, not the service's. */
function outputSchema(trans: TranslationBundle): Record<string, RJSFSchema> {
  return {
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
    experiment: { 'ui:placeholder': SCHEMAS.ExperimentCode.examples[0] },
    description: { 'ui:widget': 'textarea', 'ui:options': { rows: 3 } },
    message: { 'ui:widget': 'textarea', 'ui:options': { rows: 2 } },
    authors: { items: { orcid: { 'ui:placeholder': '0000-0002-1825-0097' } } }
  };
}
