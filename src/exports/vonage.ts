/** `smsflow/vonage`: the Vonage SMS API and Messages API channels. */
export {
  type ConcatBuffer,
  type ConcatBufferOptions,
  createConcatBuffer,
  reassembleParts,
  type VonageChannelOptions,
  type VonageSignatureMethod,
  vonageChannel,
  vonageSignature,
} from '../adapters/channels/vonage.js';
export {
  type VonageMessagesChannelOptions,
  vonageMessagesChannel,
} from '../adapters/channels/vonage-messages.js';
