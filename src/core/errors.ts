/**
 * One registry of coded errors. Every code is documented in `docs/errors.md`; a test keeps the two in sync.
 * Guards compare `error.code`, never `instanceof`, so two copies of the package still agree.
 */
export const errorCodes = {
  SMSFLOW_ERR_INVALID_PHONE: 'A phone number could not be normalised to E.164.',
  SMSFLOW_ERR_INVALID_MESSAGE: 'An inbound message did not match the InboundMessage schema.',
  SMSFLOW_ERR_INVALID_CONFIG: 'A bot, engine or adapter configuration is invalid.',
  SMSFLOW_ERR_INVALID_STATE: 'A persisted conversation state could not be read or migrated.',
  SMSFLOW_ERR_UNKNOWN_FLOW: 'A state or call names a flow the bot does not have.',
  SMSFLOW_ERR_INVALID_SIGNATURE: 'A webhook signature is missing, malformed or does not match.',
  SMSFLOW_ERR_STALE_WEBHOOK: 'A signed webhook is older (or newer) than the allowed clock window.',
  SMSFLOW_ERR_INVALID_WEBHOOK: 'A webhook body is malformed or lacks a required field.',
  SMSFLOW_ERR_PAYLOAD_TOO_LARGE: 'A webhook body is larger than the configured limit.',
  SMSFLOW_ERR_PROVIDER: 'A provider API call failed.',
  SMSFLOW_ERR_OPTED_OUT: 'A send was refused because the recipient opted out.',
  SMSFLOW_ERR_CONFLICT: 'A conversation was changed by another writer; the write was not applied.',
  SMSFLOW_ERR_STORAGE: 'A storage adapter failed.',
  SMSFLOW_ERR_ENGINE_UNAVAILABLE:
    "The engine's worker thread exited or could not start; the call was not applied (or its outcome is unknown).",
  SMSFLOW_ERR_NOT_FOUND: 'A conversation, message or thread does not exist.',
  SMSFLOW_ERR_UNKNOWN_EFFECT: 'A flow asked for an effect no action adapter handles.',
} as const;

/** A code from the registry in {@link errorCodes}. */
export type SmsflowErrorCode = keyof typeof errorCodes;

/**
 * The one error class smsflow throws. `code` says what went wrong, `message` quotes the received value and
 * says how to fix it, `issues` lists every problem found (config and payload validation report all at once).
 *
 * @example
 * try { normalizePhone('12', { defaultCountry: 'US' }) } catch (e) { if (isSmsflowError(e, 'SMSFLOW_ERR_INVALID_PHONE')) … }
 */
export class SmsflowError extends Error {
  readonly code: SmsflowErrorCode;
  readonly issues: readonly SmsflowIssue[];
  override readonly cause?: unknown;

  constructor(
    code: SmsflowErrorCode,
    message: string,
    options: { issues?: SmsflowIssue[]; cause?: unknown } = {},
  ) {
    super(`[smsflow] ${message}`);
    this.name = 'SmsflowError';
    this.code = code;
    this.issues = options.issues ?? [];
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** One problem found while validating, with the path to the offending value. */
export interface SmsflowIssue {
  path: string;
  message: string;
}

/**
 * True when `error` is a smsflow error (optionally with the given code). Compares `code`, not `instanceof`.
 *
 * @example
 * if (isSmsflowError(err, 'SMSFLOW_ERR_INVALID_SIGNATURE')) return new Response('forbidden', { status: 403 });
 */
export function isSmsflowError(error: unknown, code?: SmsflowErrorCode): error is SmsflowError {
  if (typeof error !== 'object' || error === null) return false;
  const c = (error as { code?: unknown }).code;
  return typeof c === 'string' && c in errorCodes && (code === undefined || c === code);
}

/** Formats zod-style issues as `path: message` lines for an error message. */
export function formatIssues(issues: readonly SmsflowIssue[]): string {
  return issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
}
