/** `smsflow/twilio`: the Twilio channel (SMS, MMS, WhatsApp). */
export {
  isWithinWhatsAppWindow,
  type TwilioChannelOptions,
  twilioChannel,
  twilioSignature,
  twimlResponse,
} from '../adapters/channels/twilio.js';
