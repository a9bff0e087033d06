import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

const COMMON: Options = { removeAdditional: false, allErrors: true, useDefaults: true };

function compiler(coerceTypes: Options['coerceTypes']): Ajv {
  const ajv = new Ajv({ ...COMMON, coerceTypes });
  addFormats.default(ajv);
  return ajv;
}

/**
 * Two validators. A body is JSON and is checked as sent: `12345` is not a string and `"incidents"` is not
 * a list, so a caller's type slip is a 400, not a guess. Query strings, path parameters and headers are
 * text by nature and are coerced (`limit=5` is the integer 5; one `?x=` value is a list of one).
 */
export function registerValidation(app: FastifyInstance): void {
  const body = compiler(false);
  const text = compiler('array');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema));
}
