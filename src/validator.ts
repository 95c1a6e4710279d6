import type {
  ErrorSchema,
  RJSFSchema,
  RJSFValidationError,
  ValidationData,
  ValidatorType
} from '@rjsf/utils';
import { RuleError } from './rules';
import { FORMATS } from './schema';

/**
 * A small validator for the subset of JSON schema the submit form uses
 * (object, array, string, number; required, enum, pattern, format,
 * minLength, maxLength, minItems, maxItems, minimum). It stands in for
 * `@rjsf/validator-ajv8`, which JupyterLab does not share with extensions:
 * bundling ajv would cost more than all of our own code.
 *
 * A `format` is checked by the contract's rule of that name (src/rules.ts),
 * whose message says what the value should look like.
 */

type Add = (name: string, message: string, params?: any) => void;

/** One pass over `data`: `path` is where we are, `errors` what we found. */
class Checker {
  readonly errors: RJSFValidationError[] = [];
  private readonly _path: string[] = [];

  check(schema: RJSFSchema, data: any): void {
    if (data === undefined || data === null) {
      return;
    }
    const add = this._add;
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
      case 'object':
        return this._object(schema, data);
      case 'array':
        return this._array(schema, data);
      case 'string':
        return checkString(schema, data, add);
      case 'number':
      case 'integer':
        return checkNumber(schema, data, add);
    }
  }

  private _at(key: string, fn: () => void): void {
    this._path.push(key);
    fn();
    this._path.pop();
  }

  private _add: Add = (name, message, params = {}) => {
    const property = this._path.length ? '.' + this._path.join('.') : '';
    this.errors.push({
      name,
      property,
      message,
      params,
      stack: `${property || '.'} ${message}`.trim(),
      schemaPath: ''
    });
  };

  private _object(schema: RJSFSchema, data: any): void {
    if (typeof data !== 'object' || Array.isArray(data)) {
      return this._add('type', 'must be object');
    }
    for (const key of schema.required ?? []) {
      const value = data[key];
      if (
        value === undefined ||
        value === null ||
        (typeof value === 'string' && value.trim() === '')
      ) {
        this._at(key, () =>
          this._add('required', 'is required', { missingProperty: key })
        );
      }
    }
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      if (typeof sub === 'object') {
        this._at(key, () => this.check(sub, data[key]));
      }
    }
  }

  private _array(schema: RJSFSchema, data: any): void {
    if (!Array.isArray(data)) {
      return this._add('type', 'must be array');
    }
    if (schema.minItems !== undefined && data.length < schema.minItems) {
      this._add('minItems', `must have at least ${schema.minItems} item(s)`);
    }
    if (schema.maxItems !== undefined && data.length > schema.maxItems) {
      this._add('maxItems', `must have at most ${schema.maxItems} items`);
    }
    const items = schema.items;
    if (items && typeof items === 'object' && !Array.isArray(items)) {
      data.forEach((item, index) => {
        this._at(String(index), () => this.check(items as RJSFSchema, item));
      });
    }
  }
}

function checkString(schema: RJSFSchema, data: any, add: Add): void {
  if (typeof data !== 'string') {
    return add('type', 'must be string');
  }
  if (data === '') {
    return;
  }
  const length = [...data].length;
  if (schema.minLength !== undefined && length < schema.minLength) {
    add('minLength', `must be at least ${schema.minLength} characters`);
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    add('maxLength', `must be at most ${schema.maxLength} characters`);
  }
  if (schema.pattern && !new RegExp(schema.pattern).test(data)) {
    add('pattern', 'has not the expected format', {
      pattern: schema.pattern
    });
  }
  const rule = schema.format ? FORMATS[schema.format] : undefined;
  if (rule) {
    try {
      rule(data);
    } catch (error) {
      if (!(error instanceof RuleError)) {
        throw error;
      }
      add('format', error.message, { format: schema.format });
    }
  }
}

function checkNumber(schema: RJSFSchema, data: any, add: Add): void {
  if (typeof data !== 'number' || Number.isNaN(data)) {
    return add('type', 'must be a number');
  }
  if (schema.minimum !== undefined && data < schema.minimum) {
    add('minimum', `must be at least ${schema.minimum}`);
  }
}

/** Validate `data` against `schema`; an empty list means valid. */
export function validate(schema: RJSFSchema, data: any): RJSFValidationError[] {
  const checker = new Checker();
  checker.check(schema, data);
  return checker.errors;
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
