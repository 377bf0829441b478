/** `smsflow/openai-compatible`: an LLM adapter for any OpenAI-compatible chat-completions endpoint. */
export { maskPii } from '../adapters/llm/mask.js';
export {
  DATA_BLOCK_CLOSE,
  DATA_BLOCK_OPEN,
  escapeDataBlock,
  LLM_SYSTEM_PROMPT,
  type OpenAiCompatibleLlmOptions,
  openAiCompatibleLlm,
} from '../adapters/llm/openai-compatible.js';
