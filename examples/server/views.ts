/**
 * HTML for the agent dashboard: server-rendered pages, inline CSS, one small script for live updates. No build
 * step and no client framework: every value goes through {@link esc}.
 */
import type { AppSession } from './store.js';

/** Escapes text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );
}

const CSS = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2433}
header{background:#1d2433;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:center}
header a{color:#cfe0ff;text-decoration:none}header .who{margin-left:auto;font-size:13px}
main{max-width:1100px;margin:20px auto;padding:0 20px}
table{border-collapse:collapse;width:100%;background:#fff}td,th{padding:7px 10px;border-bottom:1px solid #e3e6ec;text-align:left}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#e3e6ec}
.waiting{background:#ffe1a8}.agent{background:#cde8ff}.closed{background:#ddd}.bot{background:#d7f5dd}
.opted_out{background:#ffd0d0}.card{background:#fff;border:1px solid #e3e6ec;border-radius:8px;padding:14px;margin-bottom:16px}
.grid{display:grid;grid-template-columns:2fr 1fr;gap:16px}.msg{margin:6px 0;padding:8px 10px;border-radius:10px;max-width:75%}
.in{background:#eef0f4}.out{background:#dff0ff;margin-left:auto}.sys{font-size:12px;color:#667;text-align:center}
.meta{font-size:11px;color:#667}.err{color:#b00020}button{padding:6px 12px;cursor:pointer}
textarea{width:100%;min-height:60px;box-sizing:border-box}nav.filters a{margin-right:10px}
`;

/** Wraps page content in the dashboard layout. */
export function layout(title: string, body: string, session?: AppSession | null): string {
  const nav = session
    ? `<a href="/">Inbox</a><a href="/reports">Reports</a><a href="/leads">Leads</a>${session.user.role === 'admin' ? '<a href="/rules">Rules</a>' : ''}<a href="/simulator" target="_blank">Simulator</a>
       <span class="who">${esc(session.user.email)} (${esc(session.user.role)})
       <form method="post" action="/logout" style="display:inline"><input type="hidden" name="_csrf" value="${esc(session.csrf)}"><button>Log out</button></form></span>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · smsflow</title><style>${CSS}</style></head><body><header><strong>smsflow</strong>${nav}</header>
<main>${body}</main>${session ? LIVE_SCRIPT : ''}</body></html>`;
}

// Live updates: on any engine change, re-fetch this page and swap the [data-live] regions (keeps typed text).
const LIVE_SCRIPT = `<script>
(() => { let t; const es = new EventSource('/events');
  es.addEventListener('change', () => { clearTimeout(t); t = setTimeout(refresh, 150); });
  async function refresh() {
    const html = await (await fetch(location.href, { credentials: 'same-origin' })).text();
    const doc = new DOMParser().parseFromString(html, 'text/html');
    for (const el of document.querySelectorAll('[data-live]')) {
      const next = doc.getElementById(el.id); if (next) el.replaceWith(next);
    }
  }
})();</script>`;

/** A hidden CSRF input for a form. */
export const csrfField = (session: AppSession) =>
  `<input type="hidden" name="_csrf" value="${esc(session.csrf)}">`;

/**
 * A horizontal bar chart as inline SVG.
 *
 * @param data - Label → value.
 * @param format - Formats a value for its label. @default String
 * @example
 * barChart({ requested: 3, low_confidence: 1 })
 */
export function barChart(data: { [label: string]: number }, format: (v: number) => string = String): string {
  const entries = Object.entries(data);
  if (entries.length === 0) return '<p class="meta">No data yet.</p>';
  const max = Math.max(...entries.map(([, v]) => v), 1);
  const row = 26;
  const bars = entries
    .map(([label, value], i) => {
      const width = Math.max(2, Math.round((value / max) * 300));
      return `<text x="0" y="${i * row + 17}" font-size="12">${esc(label)}</text>
<rect x="160" y="${i * row + 4}" width="${width}" height="18" fill="#4a7fd4"><title>${esc(label)}: ${esc(format(value))}</title></rect>
<text x="${166 + width}" y="${i * row + 17}" font-size="12">${esc(format(value))}</text>`;
    })
    .join('');
  return `<svg role="img" width="520" height="${entries.length * row + 4}" xmlns="http://www.w3.org/2000/svg">${bars}</svg>`;
}

/** The login page. */
export function loginPage(csrf: string, error?: string): string {
  return layout(
    'Log in',
    `<div class="card" style="max-width:360px;margin:60px auto"><h2>Agent dashboard</h2>
${error ? `<p class="err" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/login"><input type="hidden" name="_csrf" value="${esc(csrf)}">
<p><label>Email<br><input name="email" type="email" autocomplete="username" required style="width:100%"></label></p>
<p><label>Password<br><input name="password" type="password" autocomplete="current-password" required style="width:100%"></label></p>
<button type="submit">Log in</button></form></div>`,
  );
}
