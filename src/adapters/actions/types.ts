import type { Json } from '../../core/types.js';

/** What every action call receives: the effect id (use it as the idempotency key) and whose thread it is. */
export interface ActionContext {
  /** The effect id (`<inputId>:e<n>`): stable across retries, so providers can dedupe on it. */
  effectId: string;
  /** E.164 number of the contact. */
  contact: string;
  threadId: string;
  /** Aborted when the engine gives up waiting. */
  signal?: AbortSignal;
}

/** Calendar: availability, bookings, changes. */
export interface CalendarAdapter {
  readonly name: string;
  check(
    request: { service: string; start: string; durationMinutes: number },
    context: ActionContext,
  ): Promise<{ available: boolean; alternatives?: string[] }>;
  book(
    request: { service: string; start: string; durationMinutes: number; paymentId?: string },
    context: ActionContext,
  ): Promise<{ bookingId: string }>;
  reschedule(
    request: { bookingId: string; start: string },
    context: ActionContext,
  ): Promise<{ bookingId: string }>;
  cancel(request: { bookingId: string }, context: ActionContext): Promise<{ cancelled: boolean }>;
}

/** CRM: create or update a lead with tags and an owner. */
export interface CrmAdapter {
  readonly name: string;
  upsertLead(
    lead: { phone: string; fields: { [name: string]: Json }; tags: string[]; owner?: string; score?: number },
    context: ActionContext,
  ): Promise<{ leadId: string; owner?: string }>;
}

/** Payments: a payment link for a deposit, and its cancellation. */
export interface PaymentsAdapter {
  readonly name: string;
  createLink(
    request: { amountCents: number; currency: string; description: string },
    context: ActionContext,
  ): Promise<{ paymentId: string; url: string }>;
  cancel(request: { paymentId: string }, context: ActionContext): Promise<{ cancelled: boolean }>;
}

/** Team notifications (Slack, email, pager): a hot lead, a handoff. */
export interface NotifyAdapter {
  readonly name: string;
  notify(
    message: { text: string; kind: string; contact: string; data?: { [name: string]: Json } },
    context: ActionContext,
  ): Promise<{ delivered: boolean }>;
}

/** The action adapters a host injects into the engine; each is optional. */
export interface Actions {
  calendar?: CalendarAdapter;
  crm?: CrmAdapter;
  payments?: PaymentsAdapter;
  notify?: NotifyAdapter;
}
