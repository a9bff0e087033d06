import { parse as parseContentType } from 'content-type';
import type { FastifyInstance } from 'fastify';
import { AppError } from './errors.js';

/** The labels of UTF-8 (WHATWG Encoding): JSON bodies are UTF-8 (RFC 8259 section 8.1). */
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8']);

/** A body that declares a charset other than UTF-8 would be misread as UTF-8: refuse it before reading. */
function checkCharset(header: string | undefined): void {
  if (header === undefined) return;
  const charset = parseContentType(header).parameters.charset;
  if (charset !== undefined && !UTF8_LABELS.has(charset.toLowerCase())) {
    throw new AppError('unsupported_media_type', 'The body must be application/json in UTF-8.');
  }
}

/** Checks on a request body that run before it is read (after the identity wall). */
export function registerBodyGuards(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    checkCharset(request.headers['content-type']);
    return payload;
  });
}
