import type {
  ErrorSchema,
  RJSFSchema,
  RJSFValidationError,
  ValidationData,
  ValidatorType
} from '@rjsf/utils';

/**
 * A small validator for the subset of JSON schema the submit form uses
 * (object, array, string, number; required, enum, pattern, minLength,
 * maxLength, minItems, minimum). It stands in for `@rjsf/validator-ajv8`,
 * which JupyterLab does not share with extensions: bundling ajv would cost
 * more than all of our own code.
 */

function check(
  schema: RJSFSchema,
  data: any,
  path: string[],
  errors: RJSFValidationError[]
): void {
  const add = (name: string, message: string, params: any = {}) => {
    const property = path.length ? '.' + path.join('.') : '';
    errors.push({
      name,
      property,
      message,
      params,
      stack: `${property || '.'} ${message}`.trim(),
      schemaPath: ''
    });
  };
  if (data === undefined || data === null) {
    return;
  }
  if (schema.enum && !schema.enum.includes(data)) {
    add('enum', 'must be one of the allowed values', {
      allowedValues: schema.enum
    });
  }
  if (
    Array.isArray(schema.oneOf) &&
    schema.oneOf.every(o => typeof o === 'object' && 'const' in o) &&
    !schema.oneOf.some(o => (o as RJSFSchema).const === data)
  ) {
    add('oneOf', 'must be one of the allowed values');
  }
  switch (schema.type) {
    case 'object': {
      if (typeof data !== 'object' || Array.isArray(data)) {
        add('type', 'must be object');
        return;
      }
      for (const key of schema.required ?? []) {
        const value = data[key];
        if (
          value === undefined ||
          value === null ||
          (typeof value === 'string' && value.trim() === '')
        ) {
          path.push(key);
          add('required', 'is required', { missingProperty: key });
          path.pop();
        }
      }
      for (const [key, sub] of Object.entries(schema.properties ?? {})) {
        if (typeof sub === 'object') {
          path.push(key);
          check(sub, data[key], path, errors);
          path.pop();
        }
      }
      break;
    }
    case 'array': {
      if (!Array.isArray(data)) {
        add('type', 'must be array');
        return;
      }
      if (schema.minItems !== undefined && data.length < schema.minItems) {
        add('minItems', `must have at least ${schema.minItems} item(s)`);
      }
      const items = schema.items;
      if (items && typeof items === 'object' && !Array.isArray(items)) {
        data.forEach((item, index) => {
          path.push(String(index));
          check(items as RJSFSchema, item, path, errors);
          path.pop();
        });
      }
      break;
    }
    case 'string': {
      if (typeof data !== 'string') {
        add('type', 'must be string');
        return;
      }
      if (data === '') {
        return;
      }
      if (schema.minLength !== undefined && data.length < schema.minLength) {
        add('minLength', `must be at least ${schema.minLength} characters`);
      }
      if (schema.maxLength !== undefined && data.length > schema.maxLength) {
        add('maxLength', `must be at most ${schema.maxLength} characters`);
      }
      if (schema.pattern && !new RegExp(schema.pattern).test(data)) {
        add('pattern', 'has not the expected format', {
          pattern: schema.pattern
        });
      }
      break;
    }
    case 'number':
    case 'integer': {
      if (typeof data !== 'number' || Number.isNaN(data)) {
        add('type', 'must be a number');
        return;
      }
      if (schema.minimum !== undefined && data < schema.minimum) {
        add('minimum', `must be at least ${schema.minimum}`);
      }
      break;
    }
  }
}

/** Validate `data` against `schema`; an empty list means valid. */
export function validate(schema: RJSFSchema, data: any): RJSFValidationError[] {
  const errors: RJSFValidationError[] = [];
  check(schema, data, [], errors);
  return errors;
}

/** Turn a list of errors into rjsf's nested `ErrorSchema`. */
export function toErrorSchema(errors: RJSFValidationError[]): ErrorSchema {
  const root: any = {};
  for (const error of errors) {
    const keys = (error.property ?? '').split('.').filter(k => k !== '');
    let node = root;
    for (const key of keys) {
      node = node[key] = node[key] ?? {};
    }
    node.__errors = [...(node.__errors ?? []), error.message];
  }
  return root as ErrorSchema;
}

export const validator: ValidatorType = {
  validateFormData(formData, schema): ValidationData<any> {
    const errors = validate(schema, formData);
    return { errors, errorSchema: toErrorSchema(errors) };
  },
  toErrorList(errorSchema, fieldPath = []): RJSFValidationError[] {
    const list: RJSFValidationError[] = [];
    const walk = (node: any, path: string[]) => {
      if (!node) {
        return;
      }
      for (const message of node.__errors ?? []) {
        const property = path.length ? '.' + path.join('.') : '.';
        list.push({ property, message, stack: `${property} ${message}` });
      }
      for (const key of Object.keys(node)) {
        if (key !== '__errors') {
          walk(node[key], [...path, key]);
        }
      }
    };
    walk(errorSchema, fieldPath);
    return list;
  },
  isValid(schema, formData): boolean {
    return validate(schema, formData).length === 0;
  },
  rawValidation(schema, formData) {
    return { errors: validate(schema, formData) as any[] };
  }
};
