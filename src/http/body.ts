import { Transform, type TransformCallback } from 'node:stream';
import { parse as parseContentType } from 'content-type';
import type { FastifyInstance } from 'fastify';
import { AppError } from './errors.js';

/** The labels of UTF-8 (WHATWG Encoding): JSON bodies are UTF-8 (RFC 8259 section 8.1). */
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8']);

/** How often a body's rate is judged once its grace period is over. */
const JUDGE_EVERY_MS = 500;

/** A body that declares a charset other than UTF-8 would be misread as UTF-8: refuse it before reading. */
function checkCharset(header: string | undefined): void {
  if (header === undefined) return;
  const charset = parseContentType(header).parameters.charset;
  if (charset !== undefined && !UTF8_LABELS.has(charset.toLowerCase())) {
    throw new AppError('unsupported_media_type', 'The body must be application/json in UTF-8.');
  }
}

export interface BodyRateFloor {
  /** The slowest average rate a body may arrive at, judged once `graceMs` have passed. */
  minBytesPerSecond: number;
  graceMs: number;
}

/**
 * Passes a body through while it arrives at least as fast as the floor, on average since it began; a
 * slower one (a client dribbling a byte a second to hold a connection) fails with 408. Small bodies
 * arrive within the grace period and are never judged. `receivedEncodedLength` is what Fastify reads to
 * check the body against its content-length and the body limit.
 */
class RateFloorStream extends Transform {
  receivedEncodedLength = 0;
  private readonly started = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly floor: BodyRateFloor) {
    super();
    this.timer = setInterval(() => this.judge(), JUDGE_EVERY_MS);
    this.timer.unref();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.receivedEncodedLength += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    clearInterval(this.timer);
    callback();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    clearInterval(this.timer);
    callback(err);
  }

  private judge(): void {
    const elapsedMs = Date.now() - this.started;
    if (elapsedMs < this.floor.graceMs) return;
    if (this.receivedEncodedLength < (this.floor.minBytesPerSecond * elapsedMs) / 1000) {
      this.destroy(new AppError('request_timeout', 'The body arrived too slowly.'));
    }
  }
}

/**
 * Checks on a request body that run before it is read (after the identity wall), and one after: an
 * answer given before the request was read to its end (a 401 from the wall, a 415, a 408 for a slow
 * body) closes the connection, so that a client cannot keep it open by dribbling the rest of a body.
 */
export function registerBodyGuards(app: FastifyInstance, floor: BodyRateFloor): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    checkCharset(request.headers['content-type']);
    if (request.raw.complete) return payload;
    const guarded = new RateFloorStream(floor);
    payload.on('error', (err) => guarded.destroy(err));
    // Fastify listens to the body only while it reads it. An answer given without reading it (a GET
    // with a body, a 415, a 413 on the declared length) leaves this stream behind: its failure must
    // not be an error no one handles (which ends the process), and it ends with the answer (by then
    // Fastify has read the body or given up on it; the request's own 'close' can come first).
    guarded.on('error', () => {});
    reply.raw.once('close', () => guarded.destroy());
    return payload.pipe(guarded);
  });
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) reply.header('connection', 'close');
  });
}
