/** `smsflow/plivo`: the Plivo channel. */
export {
  type PlivoChannelOptions,
  plivoChannel,
  plivoSignature,
  plivoXmlResponse,
} from '../adapters/channels/plivo.js';
