/** `smsflow/webchat`: the web chat channel (the phone simulator uses it). */
export {
  createWebchatHub,
  createWebchatToken,
  type WebchatChannelOptions,
  type WebchatHub,
  type WebchatListener,
  type WebchatOutbound,
  type WebchatTokenOptions,
  webchatChannel,
} from '../adapters/channels/webchat.js';
