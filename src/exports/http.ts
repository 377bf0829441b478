/** `smsflow/http`: web-standard webhook handlers (Request → Response), a Node listener and rate limits. */
export * from '../http/index.js';
