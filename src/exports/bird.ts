/** `smsflow/bird`: the Bird channel. */
export { type BirdChannelOptions, birdChannel, birdSignature } from '../adapters/channels/bird.js';
