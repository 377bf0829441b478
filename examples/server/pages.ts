/**
 * Dashboard page bodies: inbox, conversation, reports, rules. Pure functions from data to HTML; the routes in
 * `dashboard.ts` load the data and check roles.
 */
import type { ConversationSummary, OutboxMessage, StoredEvent } from '../../src/adapters/storage/types.js';
import type { CalendarBooking } from './calendar.js';
import type { CrmLead } from './crm.js';
import type { Reports } from './reports.js';
import type { BotRules } from './salon.js';
import type { AppSession, AppUser } from './store.js';
import { barChart, csrfField, esc } from './views.js';

const STATUSES = ['waiting', 'agent', 'bot', 'closed'] as const;
const ORDER: Record<string, number> = { waiting: 0, agent: 1, bot: 2, closed: 3 };

/** The inbox: waiting threads first with their escalation reason, then the rest by last activity. */
export function inboxBody(rows: ConversationSummary[], filter: string | undefined): string {
  const shown = rows
    .filter((r) => !filter || r.state.thread.handoff.status === filter)
    .sort(
      (a, b) =>
        (ORDER[a.state.thread.handoff.status] ?? 9) - (ORDER[b.state.thread.handoff.status] ?? 9) ||
        b.updatedAt.localeCompare(a.updatedAt),
    );
  const filters = [`<a href="/">all</a>`, ...STATUSES.map((s) => `<a href="/?status=${s}">${s}</a>`)].join(
    '',
  );
  const body = shown
    .map((r) => {
      const h = r.state.thread.handoff;
      return `<tr><td><a href="/c/${encodeURIComponent(r.key)}">${esc(r.state.contact.phone)}</a> <span class="meta">${esc(r.state.contact.channel)}</span></td>
<td><span class="pill ${esc(h.status)}">${esc(h.status)}</span> ${h.reason ? esc(h.reason) : ''}</td>
<td>${esc(r.state.thread.flow)} · ${esc(JSON.stringify(r.state.thread.machine.value))}</td>
<td><span class="pill ${esc(r.state.consent.status)}">${esc(r.state.consent.status)}</span></td><td class="meta">${esc(r.updatedAt)}</td></tr>`;
    })
    .join('');
  return `<h1>Inbox</h1><nav class="filters">Filter: ${filters}</nav>
<table id="inbox" data-live><thead><tr><th>Contact</th><th>Status</th><th>Flow · state</th><th>Consent</th><th>Updated</th></tr></thead>
<tbody>${body || '<tr><td colspan="5">No conversations yet. Text the bot from the <a href="/simulator">simulator</a>.</td></tr>'}</tbody></table>`;
}

/** The data a conversation page shows. */
export interface ConversationView {
  summary: ConversationSummary;
  events: StoredEvent[];
  outbox: OutboxMessage[];
  session: AppSession;
  notice?: string;
}

function transcript(events: StoredEvent[], outbox: OutboxMessage[]): string {
  const status = new Map(outbox.map((o) => [o.id, o]));
  return events
    .map((e) => {
      const d = e.data;
      if (e.type === 'inbound')
        return `<div class="msg in">${esc(d.text)}<div class="meta">${esc(e.at)}</div></div>`;
      if (e.type === 'outbound') {
        const row = status.get(String(d.replyId));
        return `<div class="msg out" data-outbox="${esc(d.replyId)}">${esc(d.text)}<div class="meta">${esc(d.kind)} · ${esc(d.segments)} seg ${esc(d.encoding)} · <b class="delivery">${esc(row?.status ?? 'unknown')}</b>${row?.errorCode ? ` (${esc(row.errorCode)})` : ''} · ${esc(e.at)}</div></div>`;
      }
      if (['escalation', 'handoff', 'consent', 'thread.started', 'flow.done'].includes(e.type))
        return `<div class="sys">${esc(e.type)} ${esc(
          Object.entries(d)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(' '),
        )}</div>`;
      return '';
    })
    .join('');
}

/** One conversation: transcript with delivery states, captured fields, consent, tags and the agent controls. */
export function conversationBody(view: ConversationView): string {
  const { state } = view.summary;
  const role = view.session.user.role;
  const key = encodeURIComponent(view.summary.key);
  const optedOut = state.consent.status === 'opted_out';
  const canAct = role !== 'viewer';
  const why = !canAct
    ? 'Viewers cannot reply.'
    : optedOut
      ? 'This contact opted out: replies are blocked (CTIA, TCPA). They must text START first.'
      : '';
  const action = (path: string, label: string) =>
    `<form method="post" action="/c/${key}/${path}" style="display:inline">${csrfField(view.session)}<button ${canAct ? '' : 'disabled'}>${label}</button></form>`;
  const fields = Object.entries(state.thread.machine.context)
    .filter(([k]) => k !== 'timeZone')
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(JSON.stringify(v))}</td></tr>`)
    .join('');
  const h = state.thread.handoff;
  return `<h1>${esc(state.contact.phone)} <span class="meta">${esc(state.contact.channel)}</span></h1>
${view.notice ? `<p class="err" role="alert">${esc(view.notice)}</p>` : ''}
<div class="grid"><div><div class="card" id="transcript" data-live>${transcript(view.events, view.outbox)}</div>
<div class="card"><form method="post" action="/c/${key}/reply">${csrfField(view.session)}
<textarea name="text" id="reply-text" maxlength="1600" placeholder="Reply as ${esc(view.session.user.email)}" ${why ? 'disabled' : ''}></textarea>
${why ? `<p class="meta" id="reply-disabled">${esc(why)}</p>` : ''}<button id="reply-send" ${why ? 'disabled' : ''}>Send</button></form></div></div>
<div><div class="card" id="status" data-live><p>Status: <span class="pill ${esc(h.status)}" id="handoff-status">${esc(h.status)}</span> ${h.reason ? esc(h.reason) : ''}</p>
<p>Consent: <span class="pill ${esc(state.consent.status)}" id="consent">${esc(state.consent.status)}</span> ${state.consent.via ? `via ${esc(state.consent.via)}` : ''}</p>
<p>Tags: ${state.tags.map((t) => `<span class="pill">${esc(t)}</span>`).join(' ') || '<span class="meta">none</span>'}</p>
<h3>Captured fields</h3><table>${fields || '<tr><td class="meta">none</td></tr>'}</table></div>
<div class="card">${action('take', 'Take')} ${action('release', 'Hand back to bot')} ${action('close', 'Close')}
${role === 'admin' ? `<p><a href="/c/${key}/export">Export transcript (JSON)</a></p>` : ''}</div></div></div>`;
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

/** The reports page. */
export function reportsBody(r: Reports): string {
  return `<h1>Reports</h1><div id="reports" data-live>
<div class="card"><p>Conversations: <b id="r-conversations">${r.conversations}</b> · Threads: <b id="r-threads">${r.threads}</b> ·
Containment (no person needed): <b id="r-containment">${r.containment === null ? '–' : pct(r.containment)}</b> ·
Median time to first agent reply: <b id="r-first-response">${r.medianFirstResponseSeconds === null ? '–' : `${r.medianFirstResponseSeconds}s`}</b></p></div>
<div class="card"><h3>Escalation reasons</h3>${barChart(r.escalations)}</div>
<div class="card"><h3>Segments per day</h3>${barChart(r.segmentsPerDay)}</div>
<div class="card"><h3>Delivery failures</h3>${barChart(r.deliveryFailures)}</div>
<div class="card"><h3>Drop-off per question</h3>${barChart(r.dropoff)}</div></div>`;
}

/** The rules page (admin): bot rules, users and the audit log. */
export function rulesBody(
  rules: BotRules,
  users: AppUser[],
  audit: { at: string; actor: string; action: string; target: string }[],
  session: AppSession,
  notice?: string,
): string {
  const input = (name: keyof BotRules, label: string, attrs: string) =>
    `<p><label>${label}<br><input name="${name}" value="${esc(rules[name])}" ${attrs} required></label></p>`;
  return `<h1>Rules</h1>${notice ? `<p class="err" role="alert">${esc(notice)}</p>` : ''}
<div class="card"><form method="post" action="/rules">${csrfField(session)}
${input('confidenceThreshold', 'Confidence threshold (0–1): below it the bot asks a clarifying question', 'type="number" min="0" max="1" step="0.05"')}
${input('maxRetries', 'Max retries per question (1–10) before a person takes over', 'type="number" min="1" max="10" step="1"')}
${input('threadTtlDays', 'Thread TTL in days (1–365): silence after which a message starts a new thread', 'type="number" min="1" max="365" step="1"')}
<button>Save and apply</button> <span class="meta">Applied at once: the bot is rebuilt and the engine swapped.</span></form></div>
<div class="card"><h3>Users</h3><table>${users.map((u) => `<tr><td>${esc(u.email)}</td><td>${esc(u.role)}</td></tr>`).join('')}</table>
<form method="post" action="/users">${csrfField(session)}<input name="email" type="email" placeholder="email" required>
<select name="role"><option>viewer</option><option>agent</option><option>admin</option></select>
<input name="password" type="password" placeholder="password (10+ chars)" minlength="10" required> <button>Add user</button></form></div>
<div class="card"><h3>Audit log</h3><table>${audit.map((a) => `<tr><td class="meta">${esc(a.at)}</td><td>${esc(a.actor)}</td><td>${esc(a.action)}</td><td>${esc(a.target)}</td></tr>`).join('')}</table></div>`;
}

/** The Leads page: the CRM's leads (from the lead flow) and the calendar's upcoming bookings. */
export function leadsBody(leads: CrmLead[], bookings: CalendarBooking[], timeZone: string): string {
  const when = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
  });
  const leadRows = leads
    .map(
      (l) => `<tr><td>${esc(l.phone)}</td>
<td>${esc(
        Object.entries(l.fields)
          .filter(([, v]) => v !== '' && v !== null)
          .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' · '),
      )}</td>
<td>${l.tags.map((t) => `<span class="pill">${esc(t)}</span>`).join(' ')}</td><td>${esc(l.score ?? '')}</td>
<td>${esc(l.owner ?? '')}</td><td class="meta">${esc(l.updatedAt)}</td></tr>`,
    )
    .join('');
  const bookingRows = bookings
    .map(
      (b) =>
        `<tr><td>${esc(when.format(new Date(b.start)))}</td><td>${esc(b.service)}</td><td>${esc(b.durationMinutes)} min</td><td>${esc(b.contact)}</td><td class="meta">${esc(b.bookingId)}</td></tr>`,
    )
    .join('');
  return `<h1>Leads and bookings</h1>
<div class="card"><h3>Leads (CRM)</h3><table id="leads" data-live><thead><tr><th>Contact</th><th>Details</th><th>Tags</th><th>Score</th><th>Owner</th><th>Updated</th></tr></thead>
<tbody>${leadRows || '<tr><td colspan="6">No leads yet. Ask the bot for a wedding or group quote.</td></tr>'}</tbody></table></div>
<div class="card"><h3>Upcoming bookings (calendar)</h3><table id="bookings" data-live><thead><tr><th>When</th><th>Service</th><th>Length</th><th>Contact</th><th>Booking</th></tr></thead>
<tbody>${bookingRows || '<tr><td colspan="5">No bookings yet.</td></tr>'}</tbody></table></div>`;
}
