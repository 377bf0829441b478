import type { ZodType } from 'zod';

/**
 * What an LLM adapter may know about where the conversation is. Bot configuration only: never secrets, never
 * phone numbers, never customer data.
 */
export interface LlmContext {
  /** The current flow's name, e.g. `booking`. */
  flow?: string;
  /** The current state's name, for the model's orientation only; the model never chooses a state. */
  state?: string;
}

/** One LLM call as recorded in the transcript (`llm` event). Holds the masked input only. */
export interface LlmTrace {
  model: string;
  latencyMs: number;
  promptTokens?: number;
  completionTokens?: number;
  /** `invalid_output`: the reply did not parse into the allowed schema, so it counts as not understood. */
  outcome: 'ok' | 'invalid_output' | 'timeout' | 'error';
  /** The customer text as sent, with phone numbers and emails masked (see `maskPii`). */
  maskedInput: string;
}

/** What {@link LlmAdapter.classify} returns: an allowed intent or null, never anything else. */
export interface LlmClassification {
  intent: string | null;
  /** 0..1. */
  confidence: number;
  trace: LlmTrace;
}

/** What {@link LlmAdapter.extract} returns: a value that parsed with the given schema, or null. */
export interface LlmExtraction<T> {
  value: T | null;
  trace: LlmTrace;
}

/**
 * A language model used as the last understanding stage. Implementations must:
 * mask PII before sending, put the customer text only inside a delimited data block, validate the output with
 * zod (`intent` must be one of `intents` or null), and never throw: a timeout, an error or invalid output
 * gives `intent: null` / `value: null` with the outcome in the trace.
 *
 * @example
 * const llm: LlmAdapter = openAiCompatibleLlm({ baseUrl: 'http://localhost:11434/v1', model: 'llama3.1' });
 * const { intent } = await llm.classify('can i move my appt', ['book', 'reschedule'], { flow: 'booking' });
 */
export interface LlmAdapter {
  /** Adapter name for traces and errors, e.g. `openai-compatible`. */
  readonly name: string;
  /** Picks one of `intents` (or null) for `text`. */
  classify(
    text: string,
    intents: readonly string[],
    context: LlmContext,
    signal?: AbortSignal,
  ): Promise<LlmClassification>;
  /** Extracts fields described by `schema` from `text`; the result is parsed with `schema` before it is returned. */
  extract<T>(
    text: string,
    schema: ZodType<T>,
    context: LlmContext,
    signal?: AbortSignal,
  ): Promise<LlmExtraction<T>>;
}
