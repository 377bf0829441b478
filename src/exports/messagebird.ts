/** `smsflow/messagebird`: the MessageBird (legacy) channel. */
export {
  type MessagebirdChannelOptions,
  messagebirdChannel,
  verifyMessagebirdJwt,
} from '../adapters/channels/messagebird.js';
