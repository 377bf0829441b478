/**
 * Reply catalog of the booking flow. One place for every text, so templates can be linted for segments
 * (GSM-7, 1 segment unless a budget below says more) and translated. `{name}` placeholders are filled by step.
 */
export const bookingMessages = {
  askService: 'Which service would you like? {menu}',
  serviceNotUnderstood: 'Sorry, I did not get that. Reply with a number: {menu}',
  askTime: 'Great, a {service}. What day and time suit you? E.g. "tomorrow 3pm" or "Fri 10:30am".',
  needTime: 'What time on {day}? We are open {hours}.',
  timeNotUnderstood: 'Sorry, I could not read that time. Try "tomorrow 3pm" or "12/3 at 2".',
  pastTime: 'That time has already passed. Which day and time would you like?',
  outsideHours: 'We are open {hours}. Which day and time in those hours suit you?',
  tooFar: 'We take bookings up to {days} days ahead. Which day and time suit you?',
  checking: 'One moment while I check {slot}...',
  slotTaken: '{slot} is taken. Reply 1 for {alt1}, 2 for {alt2}, or send another time.',
  slotTakenNoAlternatives: '{slot} is taken. Which other day and time suit you?',
  confirm: '{service} on {slot}. Reply YES to book or NO to pick another time.',
  confirmNotUnderstood: 'Please reply YES to book {slot} or NO to pick another time.',
  booked: 'You are booked: {service} on {slot}. Reply R to reschedule or X to cancel.',
  noBooking: 'I could not find an upcoming booking for you. Would you like to book? Reply YES or NO.',
  askNewTime: 'Your {service} is on {slot}. What new day and time suit you?',
  rescheduled: 'Done: your {service} moved to {slot}. See you then!',
  confirmCancel: 'Cancel your {service} on {slot}? Reply YES to cancel or NO to keep it.',
  cancelled: 'Your {service} on {slot} is cancelled. Text us any time to book again.',
  keptBooking: 'OK, your {service} on {slot} stays booked.',
  goodbye: 'No problem. Text us any time to book.',
  effectFailed: 'Sorry, our booking system is not answering. A person will text you shortly.',
  handoff: 'I am getting a person to help you. They will text you here shortly.',
  depositRequired: 'A {amount} deposit holds {slot}. Pay here: {url} The slot is held for {minutes} min.',
  depositExpired:
    'The hold on {slot} ended without a deposit, so the slot is released. Text us to try again.',
  depositPaid: 'Deposit received. You are booked: {service} on {slot}.',
  // Sent by the proactive scheduler 24 h and 2 h before the visit (see docs/proactive-messaging.md).
  reminder: 'Reminder: {service} on {slot}. Reply C to confirm, R to reschedule.',
  visitConfirmed: 'Thanks, see you {slot}!',
} as const;

/** A key of the booking catalog. */
export type BookingMessageKey = keyof typeof bookingMessages;

/** Replies allowed to take 2 segments: they repeat a menu or details back. */
export const bookingSegmentBudgets: Partial<Record<BookingMessageKey, number>> = {
  askService: 2,
  serviceNotUnderstood: 2,
  slotTaken: 2,
  confirm: 2,
  booked: 2,
  depositRequired: 2,
  depositExpired: 2,
  askTime: 2,
  reminder: 2,
};
